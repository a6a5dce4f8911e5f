import type { PGlite, Transaction } from '@electric-sql/pglite'
import type { SqlDriver, SqlQueryable, SqlRow } from './driver.js'
import { assertSchemaName } from './driver.js'
import { StoreError, toStoreError } from './errors.js'

/** Options of the PGlite driver. */
export interface PgliteDriverOptions {
  /** A directory (created if missing), or `memory://` for a throwaway in-memory database. */
  dataDir: string
  /** Tables live in this schema; created by the migrations if missing. */
  schema?: string
}

const queryable = (db: PGlite | Transaction): SqlQueryable => ({
  async query(text: string, params: unknown[]): Promise<SqlRow[]> {
    try {
      return (await db.query<SqlRow>(text, params)).rows
    } catch (error) {
      throw toStoreError(error, 'pglite')
    }
  },
})

/**
 * `SqlDriver` on PGlite: Postgres compiled to WebAssembly, in this process. One connection; PGlite
 * queues concurrent queries itself. Loaded lazily so importing the storage module stays cheap.
 * Creating a fresh data directory runs initdb (seconds); reopening one is much faster.
 */
export async function createPgliteDriver(options: PgliteDriverOptions): Promise<SqlDriver> {
  let db: PGlite
  try {
    const { PGlite } = await import('@electric-sql/pglite')
    db = await PGlite.create(options.dataDir)
  } catch (error) {
    // Cannot open the data directory: the database is unavailable, whatever the cause.
    throw new StoreError('CONNECTION_ERROR', `pglite ${options.dataDir}: ${String(error)}`, { cause: error })
  }
  try {
    return await pgliteDriver(db, { ...options, closeDatabase: true })
  } catch (error) {
    await db.close().catch(() => {})
    throw error
  }
}

/**
 * Wraps a PGlite instance the caller already has. PGlite has a single session, so `schema` (the
 * search_path) applies to the whole instance: never wrap one instance with two schemas at once.
 */
export async function pgliteDriver(
  db: PGlite,
  options: { schema?: string; closeDatabase?: boolean } = {},
): Promise<SqlDriver> {
  if (options.schema !== undefined) {
    assertSchemaName(options.schema)
    await queryable(db).query(`set search_path to "${options.schema}"`, [])
  }
  return {
    ...queryable(db),
    async transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
      try {
        return await db.transaction((tx) => fn(queryable(tx)))
      } catch (error) {
        throw toStoreError(error, 'pglite transaction')
      }
    },
    async close(): Promise<void> {
      if (options.closeDatabase) await db.close()
    },
  }
}
