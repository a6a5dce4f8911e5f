import { open, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { DocumentSnapshot } from '../crdt/types.js'
import { movePgliteFilesToBackup, writeFormat } from './data-dir.js'
import { StoreError } from './errors.js'
import { SQLITE_FILE } from './layout.js'
import { createPgliteDriver } from './pglite-driver.js'
import { SqlDocumentStore } from './sql-store.js'
import { openSqliteDatabase, type SqliteDriverName } from './sqlite-driver.js'
import { SqliteDocumentStore } from './sqlite-store.js'

export interface PgliteMigrationOptions {
  /** Schema of the PGlite store's tables (`SYNCKIT_PG_SCHEMA` when it was written). */
  schema?: string
  driver?: SqliteDriverName
  log?: (message: string) => void
}

const PAGE = 200

/**
 * Copies the PGlite store at the top of `dir` into `synckit.sqlite` next to it, then marks the
 * directory as a SQLite store and moves the PGlite files into `pglite-backup/`. Call it with the
 * directory locked. Crash-safe: the copy is built under a temporary name and only the format
 * marker, written after it is complete and flushed, makes it the store; until then a restart
 * starts the copy over from the untouched PGlite files.
 */
export async function migratePgliteDirectory(
  dir: string,
  options: PgliteMigrationOptions = {},
): Promise<void> {
  const log = options.log ?? (() => {})
  const partial = join(dir, `${SQLITE_FILE}.partial`)
  const final = join(dir, SQLITE_FILE)
  for (const path of [partial, final]) await removeDatabase(path)
  log(
    `migrating the PGlite store in ${dir} to SQLite (one time; PGlite needs a few hundred MB while it runs)`,
  )
  const schema = options.schema === undefined ? {} : { schema: options.schema }
  const source = new SqlDocumentStore(await createPgliteDriver({ dataDir: dir, ...schema }), schema)
  let documents = 0
  let registers = 0
  try {
    await source.migrate()
    const target = new SqliteDocumentStore(await openSqliteDatabase(partial, options.driver), {
      synchronous: 'normal',
    })
    try {
      let after: string | undefined
      for (;;) {
        const ids = await source.list({ limit: PAGE, ...(after === undefined ? {} : { after }) })
        if (ids.length === 0) break
        const page: DocumentSnapshot[] = []
        for (const id of ids) {
          const snapshot = await source.load(id)
          if (snapshot !== undefined) page.push(snapshot)
          registers += snapshot?.registers.length ?? 0
        }
        await target.save(page)
        documents += page.length
        after = ids[ids.length - 1]
      }
      const copied = await countDocuments(target)
      if (copied !== documents || target.stats.registersWritten !== registers) {
        throw new StoreError(
          'QUERY_ERROR',
          `migration check failed: read ${documents} documents / ${registers} registers, ` +
            `wrote ${copied} / ${target.stats.registersWritten}`,
        )
      }
    } finally {
      await target.close()
    }
  } finally {
    await source.close()
  }
  // Closing checkpointed the WAL into the file; flush it before the marker makes it the store.
  const handle = await open(partial, 'r+')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(partial, final)
  await writeFormat(dir, { store: 'sqlite', migratedFrom: 'pglite' })
  const backup = await movePgliteFilesToBackup(dir)
  log(
    `migrated ${documents} documents (${registers} registers) to ${final}; the PGlite files are in ` +
      `${backup ?? '(none)'}: delete that directory once you no longer need it`,
  )
}

async function countDocuments(store: SqliteDocumentStore): Promise<number> {
  let count = 0
  let after: string | undefined
  for (;;) {
    const ids = await store.list({ limit: 10_000, ...(after === undefined ? {} : { after }) })
    count += ids.length
    if (ids.length < 10_000) return count
    after = ids[ids.length - 1]
  }
}

async function removeDatabase(path: string): Promise<void> {
  for (const suffix of ['', '-wal', '-shm', '-journal']) await rm(`${path}${suffix}`, { force: true })
}
