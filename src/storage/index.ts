/**
 * `synckit-engine/storage`: building blocks for store authors (the SQL store over any driver,
 * its migrations, the store contract). Driver-free: importing this never loads `postgres` or
 * PGlite (PGlite loads on first use).
 *
 * @packageDocumentation
 */
export { isValidNodeId, NODE_ID } from './codec.js'
export type { SqlDriver, SqlQueryable, SqlRow } from './driver.js'
export { StoreError, type StoreErrorCode } from './errors.js'
export { MemoryStore } from './memory-store.js'
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
export type { DocumentStore, ListDocumentsOptions } from './store.js'
