import type { SqliteDriverName } from './sqlite-driver.js'
import { openSqliteDatabase } from './sqlite-driver.js'
import { SqliteDocumentStore, type SqliteSynchronous } from './sqlite-store.js'

/** Options of `createSqliteStore`, the embedded store `npm start` uses by default. */
export interface SqliteStoreOptions {
  /** Data directory (created if missing; default `./synckit-data`), or `memory://` for a throwaway store. */
  dataDir?: string
  /** Default `normal`: an acked write survives the process being killed; `full`: a power cut too. See `SqliteSynchronous`. */
  synchronous?: SqliteSynchronous
  /** SQLite binding; default the first this runtime loads (bun:sqlite, better-sqlite3, node:sqlite). */
  driver?: SqliteDriverName
  /**
   * A PGlite store found in `dataDir` (what `npm start` wrote before 0.2) is copied into SQLite
   * on open, its files kept in `pglite-backup/`. Default true; false refuses such a directory.
   */
  migrateFromPglite?: boolean
  /** Schema of that PGlite store's tables, if it was written with one (`SYNCKIT_PG_SCHEMA`). */
  pgliteSchema?: string
  /** Progress messages of an automatic migration. Default: none. */
  log?: (message: string) => void
}

/**
 * The embedded durable store: SQLite (WAL) in a data directory, locked to this process until
 * `close()`; a second process opening the directory gets a `DataDirectoryLockedError`. The
 * directory's format is versioned (`synckit-data.json`, see docs/operations.md).
 */
export async function createSqliteStore(options: SqliteStoreOptions = {}): Promise<SqliteDocumentStore> {
  const dataDir = options.dataDir ?? './synckit-data'
  if (dataDir === 'memory://') {
    const db = await openSqliteDatabase(':memory:', options.driver)
    return new SqliteDocumentStore(
      db,
      options.synchronous === undefined ? {} : { synchronous: options.synchronous },
    )
  }
  // File-system code loads only here, so importing the storage module stays runtime-neutral.
  const { openSqliteDataDir } = await import('./data-dir-open.js')
  return openSqliteDataDir(dataDir, options)
}
