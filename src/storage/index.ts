// Driver-free exports: importing this never loads `postgres` or PGlite (PGlite loads on first use).
export { isValidNodeId, NODE_ID } from './codec.js'
export type { SqlDriver, SqlQueryable, SqlRow } from './driver.js'
export { StoreError, type StoreErrorCode } from './errors.js'
export {
  LATEST_SCHEMA_VERSION,
  MIGRATIONS,
  type Migration,
  type MigrationResult,
  migrate,
} from './migrations.js'
export { createPgliteStore, type PgliteStoreOptions } from './pglite.js'
export { createPgliteDriver, type PgliteDriverOptions, pgliteDriver } from './pglite-driver.js'
export { SqlDocumentStore, type SqlDocumentStoreOptions, type SqlStoreStats } from './sql-store.js'
