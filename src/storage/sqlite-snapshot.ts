import { join, resolve } from 'node:path'
import { foreignDirectoryError, inspectDataDir } from './data-dir.js'
import { StoreError } from './errors.js'
import { SQLITE_FILE } from './layout.js'
import { openSqliteDatabase, type SqliteDriverName, sqliteError } from './sqlite-driver.js'
import { SqliteDocumentStore } from './sqlite-store.js'

/**
 * A read-only view of an embedded SQLite data directory as it was when this opened, for the
 * export: it takes no lock, so it works while a server runs on the directory. SQLite in WAL mode
 * lets a reader keep one snapshot (one read transaction) while another process commits; the
 * writer is never blocked, but its WAL cannot be checkpointed past the snapshot until this closes.
 * `load` and `list` read the snapshot; `save` and `delete` fail (the connection is `query_only`).
 */
export async function openSqliteSnapshot(
  dataDir: string,
  options: { driver?: SqliteDriverName } = {},
): Promise<SqliteDocumentStore> {
  const dir = resolve(dataDir)
  const state = await inspectDataDir(dir)
  if (state.kind === 'foreign') throw foreignDirectoryError(dir, state.entries)
  if (state.kind === 'empty') throw new StoreError('QUERY_ERROR', `data directory ${dir} holds no store`)
  if (state.kind === 'pglite-unmarked' || state.format.store !== 'sqlite') {
    throw new StoreError(
      'QUERY_ERROR',
      `data directory ${dir} holds a PGlite store, not SQLite: read it as PGlite (CLI: --storage pglite), ` +
        'with no server running on it',
    )
  }
  const db = await openSqliteDatabase(join(dir, SQLITE_FILE), options.driver)
  try {
    // Before anything else: this connection can never write, even a schema migration.
    db.exec('pragma query_only = 1')
    // A writer's checkpoint can hold the WAL index for a moment: wait instead of failing.
    db.exec('pragma busy_timeout = 5000')
    const store = new SqliteDocumentStore(db)
    // A deferred transaction takes its snapshot at the first read, and keeps it until closed.
    db.exec('begin')
    db.prepare('select count(*) as n from synckit_documents').get()
    return store
  } catch (error) {
    db.close()
    throw error instanceof StoreError ? error : sqliteError(error, `open a snapshot of ${dir}`)
  }
}
