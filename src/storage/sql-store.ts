import type { DocumentSnapshot } from '../crdt/types.js'
import { prepareSave } from './batch.js'
import { decodeClock, decodeKey, decodeRegister, encodeKey, listLimit } from './codec.js'
import type { SqlDriver, SqlRow } from './driver.js'
import { isRetryable, StoreError, toStoreError } from './errors.js'
import { type MigrationResult, migrate } from './migrations.js'
import { DELETE_SQL, LIST_SQL, LOAD_SQL, SAVE_SQL } from './statements.js'
import type { DocumentStore, ListDocumentsOptions } from './store.js'

/** Options of `SqlDocumentStore`. */
export interface SqlDocumentStoreOptions {
  /** Schema the driver's search_path points at, created by `migrate()` if missing. */
  schema?: string
  /** `health()` answers false after this long (ms). Default 2000. */
  healthTimeoutMs?: number
  /** Attempts of a save that hit a deadlock or serialization failure (safe: saves are idempotent). Default 3. */
  saveAttempts?: number
  /** `migrate()` gives up waiting for a lock after this long (ms), see `migrate`. Default 30000. */
  migrationLockTimeoutMs?: number
}

/** Counters for tests and benchmarks. */
export interface SqlStoreStats {
  /** Statements sent to the database (each is one round trip once prepared). */
  roundTrips: number
  /** Completed `save` calls that wrote something. */
  saves: number
  /** Registers handed to the database by those saves (after in-batch deduplication). */
  registersSent: number
}

/**
 * `DocumentStore` on Postgres SQL, one row per (document, field); the same SQL runs on the
 * `postgres` library and on PGlite (see `SqlDriver`). Every failure rejects with a `StoreError`.
 */
export class SqlDocumentStore implements DocumentStore {
  readonly #driver: SqlDriver
  readonly #options: SqlDocumentStoreOptions
  #closed = false
  readonly stats: SqlStoreStats = { roundTrips: 0, saves: 0, registersSent: 0 }

  constructor(driver: SqlDriver, options: SqlDocumentStoreOptions = {}) {
    this.#driver = driver
    this.#options = options
  }

  /** Idempotent and safe to run from several nodes at once (see `migrate`). */
  async migrate(): Promise<MigrationResult> {
    this.#assertOpen()
    const { schema, migrationLockTimeoutMs } = this.#options
    try {
      return await migrate(this.#driver, {
        ...(schema === undefined ? {} : { schema }),
        ...(migrationLockTimeoutMs === undefined ? {} : { lockTimeoutMs: migrationLockTimeoutMs }),
      })
    } catch (error) {
      if (error instanceof RangeError) throw error
      throw toStoreError(error, 'migrate')
    }
  }

  async load(documentId: string): Promise<DocumentSnapshot | undefined> {
    const rows = await this.#query('load', LOAD_SQL, [encodeKey(documentId)])
    const row = rows[0]
    if (row === undefined) return undefined
    try {
      const registers: unknown = typeof row.registers === 'string' ? JSON.parse(row.registers) : undefined
      if (!Array.isArray(registers)) throw new StoreError('QUERY_ERROR', 'corrupt registers aggregate')
      return { documentId, registers: registers.map(decodeRegister), clock: decodeClock(row.clock) }
    } catch (error) {
      throw toStoreError(error, `load ${documentId}`)
    }
  }

  async save(documents: readonly DocumentSnapshot[]): Promise<void> {
    this.#assertOpen()
    let batch: ReturnType<typeof prepareSave>
    try {
      batch = prepareSave(documents)
    } catch (error) {
      throw toStoreError(error, 'save')
    }
    if (batch.documentCount === 0) return
    const attempts = Math.max(1, this.#options.saveAttempts ?? 3)
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#query('save', SAVE_SQL, [batch.registers, batch.clocks])
        break
      } catch (error) {
        if (!(error instanceof StoreError) || !isRetryable(error) || attempt >= attempts) throw error
      }
    }
    this.stats.saves++
    this.stats.registersSent += batch.registerCount
  }

  /** Document ids in byte order, `limit` (default 100, max 10000) after `after` (exclusive), starting with `prefix`. */
  async list(options: ListDocumentsOptions = {}): Promise<string[]> {
    const limit = listLimit(options.limit)
    const after = options.after === undefined ? null : encodeKey(options.after)
    const prefix = options.prefix ? encodeKey(options.prefix) : null
    const rows = await this.#query('list', LIST_SQL, [after, limit, prefix])
    return rows.map((row) => {
      if (typeof row.document_id !== 'string') throw new StoreError('QUERY_ERROR', 'corrupt document row')
      return decodeKey(row.document_id)
    })
  }

  /** Removes the document's registers and row. False when it did not exist. */
  async delete(documentId: string): Promise<boolean> {
    const rows = await this.#query('delete', DELETE_SQL, [encodeKey(documentId)])
    return rows.length > 0
  }

  /** `select 1` within `healthTimeoutMs`; never throws. */
  async health(): Promise<boolean> {
    if (this.#closed) return false
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.#options.healthTimeoutMs ?? 2000)
    })
    const probe = this.#query('health', 'select 1 as ok', []).then(
      (rows) => rows.length === 1,
      () => false,
    )
    try {
      return await Promise.race([probe, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#driver.close()
  }

  get closed(): boolean {
    return this.#closed
  }

  async #query(context: string, sql: string, params: unknown[]): Promise<SqlRow[]> {
    this.#assertOpen()
    this.stats.roundTrips++
    try {
      return await this.#driver.query(sql, params)
    } catch (error) {
      throw toStoreError(error, context)
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreError('CONNECTION_ERROR', 'store is closed')
  }
}
