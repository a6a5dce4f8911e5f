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
 * The embedded durable store: PGlite in a data directory, with the same SQL and migrations as
 * the Postgres store. Open a data directory from one process at a time.
 */
export async function createPgliteStore(options: PgliteStoreOptions = {}): Promise<SqlDocumentStore> {
  const driver = await createPgliteDriver({
    dataDir: options.dataDir ?? './synckit-data',
    ...(options.schema === undefined ? {} : { schema: options.schema }),
  })
  const store = new SqlDocumentStore(driver, options.schema === undefined ? {} : { schema: options.schema })
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
