/** A result row as it comes off the wire: validated by the caller, never trusted. */
export type SqlRow = Record<string, unknown>

/** Runs parameterised SQL. */
export interface SqlQueryable {
  /** One statement, `$1`-style parameters, one round trip. Rejects with a `StoreError`. */
  query(sql: string, params: unknown[]): Promise<SqlRow[]>
}

/**
 * The whole surface `SqlDocumentStore` needs from a database client, so one SQL adapter runs on
 * both the `postgres` library and PGlite. Drivers map their errors with `toStoreError`.
 */
export interface SqlDriver extends SqlQueryable {
  /** Runs `fn` in one transaction on one connection; commits if it resolves, rolls back if not. */
  transaction?<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>
  /** Releases the connections. */
  close(): Promise<void>
}

/** Postgres identifier rule used for the `schema` option (no quoting games). */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/

export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) {
    throw new TypeError(`invalid schema name ${JSON.stringify(schema)}: expected ${SCHEMA_NAME}`)
  }
}
