import type { SqlDriver } from './driver.js'
import { createPgliteDriver } from './pglite-driver.js'
import { SqlDocumentStore } from './sql-store.js'

/** Options of `createPgliteStore`. */
export interface PgliteStoreOptions {
  /** Data directory (created if missing; default `./synckit-data`), or `memory://`. */
  dataDir?: string
  schema?: string
  /** Run migrations before returning. Default true. */
  migrate?: boolean
}

/**
 * PGlite (Postgres in WebAssembly) in a data directory, with the same SQL and migrations as the
 * Postgres store. The directory is locked to this process until `close()` (see
 * docs/operations.md). The CLI's default embedded store is SQLite (`createSqliteStore`), which
 * needs far less memory; PGlite remains for code that wants Postgres's SQL in process.
 */
export async function createPgliteStore(options: PgliteStoreOptions = {}): Promise<SqlDocumentStore> {
  const dataDir = options.dataDir ?? './synckit-data'
  const schema = options.schema === undefined ? {} : { schema: options.schema }
  let driver: SqlDriver
  if (dataDir === 'memory://') {
    driver = await createPgliteDriver({ dataDir, ...schema })
  } else {
    // File-system code loads only here, so importing the storage module stays runtime-neutral.
    const { openPgliteDataDir } = await import('./data-dir-open.js')
    driver = await openPgliteDataDir(dataDir, schema)
  }
  const store = new SqlDocumentStore(driver, schema)
  if (options.migrate !== false) {
    try {
      await store.migrate()
    } catch (error) {
      await store.close().catch(() => {})
      throw error
    }
  }
  return store
}
