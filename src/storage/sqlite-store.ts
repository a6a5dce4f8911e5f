import type { DocumentSnapshot } from '../crdt/types.js'
import { mergeClockInto } from '../crdt/vector-clock.js'
import { mergeSave } from './batch.js'
import { decodeClock, decodeKey, decodeRegister, encodeKey, encodeValue, listLimit } from './codec.js'
import { StoreError } from './errors.js'
import type { SqliteDatabase, SqliteRow, SqliteStatement } from './sqlite-driver.js'
import { sqliteError } from './sqlite-driver.js'
import type { DocumentStore, ListDocumentsOptions } from './store.js'

/**
 * `normal` (default): a commit is written to the OS before `save` resolves and fsynced at the next
 * checkpoint: an acked write survives the process being killed (SIGKILL, OOM, crash), and a power
 * cut leaves a consistent database that may lack the last commits. `full`: every commit is also
 * fsynced before `save` resolves, so an acked write survives a power cut (on a disk that honours
 * flushes); the fsync runs on the event loop (the bindings are synchronous), see
 * docs/benchmarks.md for what it costs.
 */
export type SqliteSynchronous = 'full' | 'normal'

/** Counters of a SQLite store, for benchmarks and tests. */
export interface SqliteStoreStats {
  /** `save` calls that wrote something: one transaction (one commit) each. */
  transactions: number
  /** Registers handed to the database by those transactions (after in-batch merging). */
  registersWritten: number
}

/** Append-only, like the SQL store's migrations: `PRAGMA user_version` records the last applied. */
const SCHEMA: readonly (readonly string[])[] = [
  [
    // Text compares with SQLite's BINARY collation: byte order of UTF-8, as collation "C" in the
    // SQL store, so the LWW tie-break on stamp_node and list() order match it exactly.
    `create table synckit_documents (
      document_id text primary key,
      clock text not null
    ) strict, without rowid`,
    `create table synckit_registers (
      document_id text not null,
      field text not null,
      value text not null,
      value_encoded integer not null,
      deleted integer not null,
      stamp_ms integer not null,
      stamp_counter integer not null,
      stamp_node text not null,
      dot_node text not null,
      dot_seq integer not null,
      primary key (document_id, field)
    ) strict, without rowid`,
  ],
]

/** Schema version of the SQLite tables (`pragma user_version`); a newer one is refused. */
export const SQLITE_SCHEMA_VERSION = SCHEMA.length

/**
 * The same LWW rule as the SQL store's `SAVE_SQL`: a row is replaced only by a strictly greater
 * (ms, counter, node) stamp, so replays and reordered batches change nothing.
 */
const UPSERT_REGISTER = `
insert into synckit_registers
  (document_id, field, value, value_encoded, deleted, stamp_ms, stamp_counter, stamp_node, dot_node, dot_seq)
values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
on conflict (document_id, field) do update
  set value = excluded.value, value_encoded = excluded.value_encoded, deleted = excluded.deleted,
      stamp_ms = excluded.stamp_ms, stamp_counter = excluded.stamp_counter,
      stamp_node = excluded.stamp_node, dot_node = excluded.dot_node, dot_seq = excluded.dot_seq
  where (excluded.stamp_ms, excluded.stamp_counter, excluded.stamp_node)
      > (synckit_registers.stamp_ms, synckit_registers.stamp_counter, synckit_registers.stamp_node)`

interface Statements {
  clock: SqliteStatement
  putClock: SqliteStatement
  upsert: SqliteStatement
  registers: SqliteStatement
  list: SqliteStatement
  deleteRegisters: SqliteStatement
  deleteDocument: SqliteStatement
  health: SqliteStatement
}

/**
 * `DocumentStore` on SQLite (WAL), in this process. Calls are synchronous inside: a `save` is one
 * transaction (group commit: every document and register of the batch, one commit, one fsync in
 * `full` mode), done before the returned promise settles. One process per database file: open it
 * through `createSqliteStore`, which holds the data directory's lock.
 */
export class SqliteDocumentStore implements DocumentStore {
  readonly #db: SqliteDatabase
  readonly #sql: Statements
  readonly #onClose: (() => Promise<void>) | undefined
  #closed = false
  readonly stats: SqliteStoreStats = { transactions: 0, registersWritten: 0 }

  /** Prepares `db` (WAL, `synchronous`, schema migrations). Throws a `StoreError`. */
  constructor(
    db: SqliteDatabase,
    options: { synchronous?: SqliteSynchronous; onClose?: () => Promise<void> } = {},
  ) {
    this.#db = db
    this.#onClose = options.onClose
    try {
      db.exec('pragma journal_mode = wal')
      db.exec(`pragma synchronous = ${options.synchronous === 'full' ? 'full' : 'normal'}`)
      migrateSchema(db)
      this.#sql = {
        clock: db.prepare('select clock from synckit_documents where document_id = ?'),
        putClock: db.prepare(
          'insert into synckit_documents (document_id, clock) values (?, ?) ' +
            'on conflict (document_id) do update set clock = excluded.clock',
        ),
        upsert: db.prepare(UPSERT_REGISTER),
        registers: db.prepare(
          'select field, value, value_encoded, deleted, stamp_ms, stamp_counter, stamp_node, dot_node, dot_seq ' +
            'from synckit_registers where document_id = ?',
        ),
        list: db.prepare(
          'select document_id from synckit_documents where (? is null or document_id > ?) ' +
            'and (? is null or (document_id >= ? and substr(document_id, 1, length(?)) = ?)) ' +
            'order by document_id limit ?',
        ),
        deleteRegisters: db.prepare('delete from synckit_registers where document_id = ?'),
        deleteDocument: db.prepare(
          'delete from synckit_documents where document_id = ? returning 1 as deleted',
        ),
        health: db.prepare('select 1 as ok'),
      }
    } catch (error) {
      throw sqliteError(error, 'open')
    }
  }

  async load(documentId: string): Promise<DocumentSnapshot | undefined> {
    this.#assertOpen()
    try {
      const key = encodeKey(documentId)
      const document = this.#sql.clock.get(key)
      if (document === undefined) return undefined
      const registers = this.#sql.registers.all(key).map(registerOf)
      return { documentId, registers, clock: decodeClock(document.clock) }
    } catch (error) {
      throw sqliteError(error, `load ${documentId}`)
    }
  }

  async save(documents: readonly DocumentSnapshot[]): Promise<void> {
    this.#assertOpen()
    let batch: ReturnType<typeof mergeSave>
    try {
      batch = mergeSave(documents)
    } catch (error) {
      throw sqliteError(error, 'save')
    }
    if (batch.size === 0) return
    let written = 0
    this.#transaction('save', () => {
      for (const [documentId, pending] of batch) {
        const key = encodeKey(documentId)
        const stored = this.#sql.clock.get(key)
        const clock = stored === undefined ? pending.clock : decodeClock(stored.clock)
        // The stored clock only grows: rewrite the row only when it is new or an entry grew.
        if (stored === undefined || mergeClockInto(clock, pending.clock)) {
          this.#sql.putClock.run(key, JSON.stringify(clock))
        }
        for (const r of pending.fields.values()) {
          const { json, encoded } = encodeValue(r.deleted ? null : r.value)
          this.#sql.upsert.run(
            key,
            encodeKey(r.field),
            json,
            encoded ? 1 : 0,
            r.deleted ? 1 : 0,
            r.stamp.ms,
            r.stamp.counter,
            r.stamp.node,
            r.dot.node,
            r.dot.seq,
          )
          written++
        }
      }
    })
    this.stats.transactions++
    this.stats.registersWritten += written
  }

  /** Document ids in byte order, `limit` (default 100, max 10000) after `after` (exclusive). */
  async list(options: ListDocumentsOptions = {}): Promise<string[]> {
    this.#assertOpen()
    const limit = listLimit(options.limit)
    const after = options.after === undefined ? null : encodeKey(options.after)
    try {
      const prefix = options.prefix ? encodeKey(options.prefix) : null
      return this.#sql.list.all(after, after, prefix, prefix, prefix, prefix, limit).map((row) => {
        if (typeof row.document_id !== 'string') throw new StoreError('QUERY_ERROR', 'corrupt document row')
        return decodeKey(row.document_id)
      })
    } catch (error) {
      throw sqliteError(error, 'list')
    }
  }

  /** Removes the document's registers and row. False when it did not exist. */
  async delete(documentId: string): Promise<boolean> {
    this.#assertOpen()
    const key = encodeKey(documentId)
    let existed = false
    this.#transaction(`delete ${documentId}`, () => {
      this.#sql.deleteRegisters.run(key)
      existed = this.#sql.deleteDocument.all(key).length > 0
    })
    return existed
  }

  /** `select 1`; never throws. */
  async health(): Promise<boolean> {
    if (this.#closed) return false
    try {
      return this.#sql.health.get()?.ok === 1
    } catch {
      return false
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    try {
      this.#db.close()
    } finally {
      await this.#onClose?.()
    }
  }

  get closed(): boolean {
    return this.#closed
  }

  #transaction(context: string, body: () => void): void {
    try {
      this.#db.exec('begin immediate')
    } catch (error) {
      throw sqliteError(error, context)
    }
    try {
      body()
      this.#db.exec('commit')
    } catch (error) {
      try {
        this.#db.exec('rollback')
      } catch {
        // SQLite already rolled back (e.g. after an I/O error): nothing to undo.
      }
      throw sqliteError(error, context)
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreError('CONNECTION_ERROR', 'store is closed')
  }
}

/** Applies the missing schema versions in one transaction; refuses a database newer than this code. */
function migrateSchema(db: SqliteDatabase): void {
  const version = Number(db.prepare('pragma user_version').get()?.user_version ?? 0)
  if (version > SQLITE_SCHEMA_VERSION) {
    throw new StoreError(
      'QUERY_ERROR',
      `the database has schema version ${version}, newer than this synckit-engine understands ` +
        `(${SQLITE_SCHEMA_VERSION}): upgrade synckit-engine`,
    )
  }
  if (version === SQLITE_SCHEMA_VERSION) return
  db.exec('begin immediate')
  try {
    for (const statements of SCHEMA.slice(version)) for (const statement of statements) db.exec(statement)
    db.exec(`pragma user_version = ${SQLITE_SCHEMA_VERSION}`)
    db.exec('commit')
  } catch (error) {
    db.exec('rollback')
    throw error
  }
}

/** A register row, validated by the same decoder as the SQL store's rows. */
function registerOf(row: SqliteRow): ReturnType<typeof decodeRegister> {
  if (typeof row.value !== 'string') throw new StoreError('QUERY_ERROR', 'corrupt register row')
  return decodeRegister([
    row.field,
    JSON.parse(row.value),
    row.value_encoded === 1,
    row.deleted === 1,
    row.stamp_ms,
    row.stamp_counter,
    row.stamp_node,
    row.dot_node,
    row.dot_seq,
  ])
}
