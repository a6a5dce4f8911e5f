// Driver-free exports: importing this never loads `postgres`, PGlite or a SQLite binding (each loads on first use).
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
