import postgres from 'postgres'
import type { SqlDriver, SqlQueryable, SqlRow } from './driver.js'
import { assertSchemaName } from './driver.js'
import { toStoreError } from './errors.js'

export interface PostgresDriverOptions {
  /** `postgres://user:pass@host:5432/db` */
  url: string
  /** Tables live in this schema (search_path); created by the migrations if missing. */
  schema?: string
  /** Pool size. Default 10. */
  max?: number
  /** Seconds to wait for a connection before a query fails with CONNECTION_ERROR. Default 10. */
  connectTimeoutSeconds?: number
  /** Close idle connections after this many seconds. Default: keep them. */
  idleTimeoutSeconds?: number
  /** Named prepared statements; turn off behind a transaction-mode pgbouncer. Default true. */
  prepare?: boolean
}

type Sql = ReturnType<typeof postgres>
type Params = NonNullable<Parameters<Sql['unsafe']>[1]>

const queryable = (sql: Pick<Sql, 'unsafe'>): SqlQueryable => ({
  async query(text: string, params: unknown[]): Promise<SqlRow[]> {
    try {
      return await sql.unsafe(text, params as Params)
    } catch (error) {
      throw toStoreError(error, 'postgres')
    }
  },
})

/** `SqlDriver` on the `postgres` library (connection pool, pipelining, prepared statements). */
export function createPostgresDriver(options: PostgresDriverOptions): SqlDriver {
  if (options.schema !== undefined) assertSchemaName(options.schema)
  const sql = postgres(options.url, {
    max: options.max ?? 10,
    connect_timeout: options.connectTimeoutSeconds ?? 10,
    idle_timeout: options.idleTimeoutSeconds,
    prepare: options.prepare ?? true,
    // NOTICEs ("schema already exists, skipping") are expected, not worth a console line.
    onnotice: () => {},
    connection: {
      application_name: 'synckit-engine',
      ...(options.schema === undefined ? {} : { search_path: `"${options.schema}"` }),
    },
  })
  return {
    ...queryable(sql),
    async transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
      try {
        return (await sql.begin((tx) => fn(queryable(tx)))) as T
      } catch (error) {
        throw toStoreError(error, 'postgres transaction')
      }
    },
    async close(): Promise<void> {
      await sql.end({ timeout: 5 })
    },
  }
}
