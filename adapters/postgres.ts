/**
 * `synckit-engine/postgres`: the production document store on PostgreSQL (the `postgres` client).
 *
 *   const store = await createPostgresStore({ url: process.env.DATABASE_URL })
 *   const sync = createSyncServer({ store })
 */
import { createPostgresDriver } from '../src/storage/postgres-driver.js'
import { SqlDocumentStore, type SqlDocumentStoreOptions } from '../src/storage/sql-store.js'

export { isValidNodeId } from '../src/storage/codec.js'
export { StoreError, type StoreErrorCode } from '../src/storage/errors.js'
export { LATEST_SCHEMA_VERSION, type MigrationResult } from '../src/storage/migrations.js'
export { createPostgresDriver, type PostgresDriverOptions } from '../src/storage/postgres-driver.js'
export {
  SqlDocumentStore,
  type SqlDocumentStoreOptions,
  type SqlStoreStats,
} from '../src/storage/sql-store.js'

/** Options of `createPostgresStore`: the connection, and how the store migrates and times out. */
export interface PostgresStoreOptions {
  /** `postgres://user:pass@host:5432/db` */
  url: string
  /** Schema for the tables (default: the server's search_path, usually `public`). */
  schema?: string
  /** Pool size. Default 10. */
  max?: number
  /** Seconds to wait for a connection. Default 10. */
  connectTimeoutSeconds?: number
  /** Named prepared statements; turn off behind a transaction-mode pgbouncer. Default true. */
  prepare?: boolean
  /** Bound of one query, waiting for a connection included (ms); CONNECTION_ERROR after. Default 10000. */
  queryTimeoutMs?: number
  /** Run migrations before returning (safe from many nodes at once). Default true. */
  migrate?: boolean
  healthTimeoutMs?: SqlDocumentStoreOptions['healthTimeoutMs']
  migrationLockTimeoutMs?: SqlDocumentStoreOptions['migrationLockTimeoutMs']
}

/** The production store: Postgres, migrated on start, LWW upserts in SQL. */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<SqlDocumentStore> {
  const { migrate, healthTimeoutMs, migrationLockTimeoutMs, ...driverOptions } = options
  const store = new SqlDocumentStore(createPostgresDriver(driverOptions), {
    ...(options.schema === undefined ? {} : { schema: options.schema }),
    ...(healthTimeoutMs === undefined ? {} : { healthTimeoutMs }),
    ...(migrationLockTimeoutMs === undefined ? {} : { migrationLockTimeoutMs }),
  })
  if (migrate !== false) {
    try {
      await store.migrate()
    } catch (error) {
      await store.close().catch(() => {})
      throw error
    }
  }
  return store
}
