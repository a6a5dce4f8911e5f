import { join } from 'node:path'
import { foreignDirectoryError, inspectDataDir, movePgliteFilesToBackup, writeFormat } from './data-dir.js'
import { type DataDirectoryLock, lockDataDirectory } from './data-dir-lock.js'
import type { SqlDriver } from './driver.js'
import { StoreError } from './errors.js'
import { SQLITE_FILE } from './layout.js'
import { createPgliteDriver } from './pglite-driver.js'
import { migratePgliteDirectory } from './pglite-migration.js'
import type { SqliteStoreOptions } from './sqlite.js'
import { openSqliteDatabase } from './sqlite-driver.js'
import { SqliteDocumentStore } from './sqlite-store.js'

/**
 * Opening an embedded data directory: take its lock, check what it holds (the format marker),
 * bring it to the store's layout, open the store; the lock is released when the store closes.
 * Loaded on first use only: it needs the file system.
 */

/** `createSqliteStore` on a directory: lock, layout (migrating a PGlite store), open. */
export async function openSqliteDataDir(
  dataDir: string,
  options: SqliteStoreOptions,
): Promise<SqliteDocumentStore> {
  const synchronous = options.synchronous === undefined ? {} : { synchronous: options.synchronous }
  const lock = await lockDataDirectory(
    dataDir,
    options.driver === undefined ? {} : { driver: options.driver },
  )
  try {
    const isNew = await prepareDirectory(lock, options)
    const db = await openSqliteDatabase(join(lock.dataDir, SQLITE_FILE), options.driver)
    let store: SqliteDocumentStore
    try {
      store = new SqliteDocumentStore(db, { ...synchronous, onClose: () => lock.release() })
    } catch (error) {
      db.close()
      throw error
    }
    if (isNew)
      await writeFormat(lock.dataDir, { store: 'sqlite' }).catch(async (error: unknown) => {
        await store.close()
        throw error
      })
    return store
  } catch (error) {
    await lock.release()
    throw error
  }
}

/** Brings the locked directory to a SQLite store's layout. True when the store is new. */
async function prepareDirectory(lock: DataDirectoryLock, options: SqliteStoreOptions): Promise<boolean> {
  const dir = lock.dataDir
  const state = await inspectDataDir(dir)
  if (state.kind === 'foreign') throw foreignDirectoryError(dir, state.entries)
  if (state.kind === 'empty') return true
  if (state.kind === 'marked' && state.format.store === 'sqlite') {
    // An interrupted migration may have left PGlite files to move.
    if (state.format.migratedFrom === 'pglite') await movePgliteFilesToBackup(dir)
    return false
  }
  if (options.migrateFromPglite === false) {
    throw new StoreError(
      'QUERY_ERROR',
      `data directory ${dir} holds a PGlite store: open it with createPgliteStore (CLI: --storage pglite), ` +
        'or let createSqliteStore migrate it (CLI: the default --storage embedded does)',
    )
  }
  await migratePgliteDirectory(dir, {
    ...(options.pgliteSchema === undefined ? {} : { schema: options.pgliteSchema }),
    ...(options.driver === undefined ? {} : { driver: options.driver }),
    ...(options.log === undefined ? {} : { log: options.log }),
  })
  return false
}

/** `createPgliteStore` on a directory: lock, layout check, open; the driver's close releases the lock. */
export async function openPgliteDataDir(dataDir: string, schema: { schema?: string }): Promise<SqlDriver> {
  const lock = await lockDataDirectory(dataDir)
  let pglite: SqlDriver | undefined
  try {
    const state = await inspectDataDir(lock.dataDir)
    if (state.kind === 'foreign') throw foreignDirectoryError(lock.dataDir, state.entries)
    if (state.kind === 'marked' && state.format.store !== 'pglite') {
      throw new StoreError(
        'QUERY_ERROR',
        `data directory ${lock.dataDir} holds a ${state.format.store} store: open it with createSqliteStore ` +
          '(CLI: --storage embedded)',
      )
    }
    pglite = await createPgliteDriver({ dataDir: lock.dataDir, ...schema })
    if (state.kind !== 'marked') await writeFormat(lock.dataDir, { store: 'pglite' })
  } catch (error) {
    await pglite?.close().catch(() => {})
    await lock.release()
    throw error
  }
  const opened = pglite
  return {
    ...opened,
    async close() {
      try {
        await opened.close()
      } finally {
        await lock.release()
      }
    },
  }
}
