import postgres from 'postgres'
import type { SqlDriver, SqlQueryable, SqlRow } from './driver.js'
import { assertSchemaName } from './driver.js'
import { StoreError, toStoreError } from './errors.js'

/** How the Postgres driver connects (URL, pool size, timeouts). */
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
  /**
   * Bound of one store query (ms), waiting for a connection included: the caller gets
   * CONNECTION_ERROR after it. Needed because the `postgres` client retries forever, without
   * failing the queued query, when the endpoint accepts TCP connections but drops them during the
   * handshake (a proxy, pgbouncer or port forward in front of a Postgres that is down). While
   * 2 × `max` (at least 4) timed-out queries still wait, further queries fail at once. Default
   * 10000. Migrations (`transaction`) are not bounded: they may wait for another node's lock.
   */
  queryTimeoutMs?: number
}

type Sql = ReturnType<typeof postgres>
type Params = NonNullable<Parameters<Sql['unsafe']>[1]>

const DEFAULT_QUERY_TIMEOUT_MS = 10_000

/** Queries past their deadline and not settled yet; at `limit`, new queries fail fast. */
interface Stalls {
  count: number
  limit: number
}

const queryable = (sql: Pick<Sql, 'unsafe'>, timeoutMs?: number, stalls?: Stalls): SqlQueryable => ({
  async query(text: string, params: unknown[]): Promise<SqlRow[]> {
    try {
      if (timeoutMs === undefined || stalls === undefined) return await sql.unsafe(text, params as Params)
      if (stalls.count >= stalls.limit) {
        throw new StoreError(
          'CONNECTION_ERROR',
          `postgres: database unreachable (${stalls.count} queries past ${timeoutMs} ms still waiting)`,
        )
      }
      return await bounded(sql.unsafe(text, params as Params), timeoutMs, stalls)
    } catch (error) {
      throw toStoreError(error, 'postgres')
    }
  },
})

/**
 * Settles within `ms` with CONNECTION_ERROR. The query itself is left to the client (cancelling a
 * query that is waiting for a connection can wedge that connection in the `postgres` client): it
 * runs or fails when the database answers, which is harmless because saves are idempotent LWW
 * upserts. Such stalled queries are counted, and while `stalls.limit` of them wait, new queries
 * fail at once instead of piling up in the client for the length of the outage.
 */
function bounded<T>(pending: Promise<T>, ms: number, stalls: Stalls): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      stalls.count++
      pending.then(
        () => stalls.count--,
        () => stalls.count--,
      )
      reject(new StoreError('CONNECTION_ERROR', `postgres: query timed out after ${ms} ms`))
    }, ms)
  })
  return Promise.race([pending, timeout]).finally(() => clearTimeout(timer))
}

/** `SqlDriver` on the `postgres` library (connection pool, pipelining, prepared statements). */
export function createPostgresDriver(options: PostgresDriverOptions): SqlDriver {
  if (options.schema !== undefined) assertSchemaName(options.schema)
  const sql = postgres(options.url, {
    max: options.max ?? 10,
    connect_timeout: options.connectTimeoutSeconds ?? 10,
    idle_timeout: options.idleTimeoutSeconds,
    prepare: options.prepare ?? true,
    // The store uses no Postgres array types. The client's array-type lookup, run on every new
    // connection, has no rejection handler: a connection lost during it is an unhandled rejection
    // (which ends a Node process). Off, it also saves a round trip per connection.
    fetch_types: false,
    // NOTICEs ("schema already exists, skipping") are expected, not worth a console line.
    onnotice: () => {},
    connection: {
      application_name: 'synckit-engine',
      ...(options.schema === undefined ? {} : { search_path: `"${options.schema}"` }),
    },
  })
  const timeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS
  if (!(timeoutMs > 0))
    throw new RangeError(`invalid queryTimeoutMs ${timeoutMs}: expected a positive number`)
  const stalls: Stalls = { count: 0, limit: Math.max(4, 2 * (options.max ?? 10)) }
  return {
    ...queryable(sql, timeoutMs, stalls),
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
