/**
 * `synckit-engine/storage`: building blocks for store authors (the SQL store over any driver,
 * its migrations, the embedded stores, the store contract). Driver-free: importing this never
 * loads `postgres`, PGlite or a SQLite binding (each loads on first use).
 *
 * @packageDocumentation
 */
export { isValidNodeId, NODE_ID } from './codec.js'
export type { SqlDriver, SqlQueryable, SqlRow } from './driver.js'
export { DataDirectoryLockedError, type LockHolder, StoreError, type StoreErrorCode } from './errors.js'
export {
  DATA_DIR_FORMAT_VERSION,
  type DataDirFormat,
  type EmbeddedStoreKind,
  FORMAT_FILE,
  SQLITE_FILE,
} from './layout.js'
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
export { createSqliteStore, type SqliteStoreOptions } from './sqlite.js'
export type { SqliteDriverName } from './sqlite-driver.js'
export {
  SQLITE_SCHEMA_VERSION,
  SqliteDocumentStore,
  type SqliteStoreStats,
  type SqliteSynchronous,
} from './sqlite-store.js'
export type { DocumentStore, ListDocumentsOptions } from './store.js'
