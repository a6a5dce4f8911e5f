import { mergeClockInto, mergeRegisters, registerWins } from '../../src/crdt/index.js'
import type { DocumentSnapshot, JsonValue, Register, VectorClock } from '../../src/crdt/types.js'
import type { DocumentStore, ListDocumentsOptions } from '../../src/server/options.js'
import {
  decodeClock,
  decodeKey,
  encodeKey,
  toSafeInt,
  validateClock,
  validateRegister,
} from '../../src/storage/codec.js'
import { StoreError } from '../../src/storage/errors.js'
import type { DurableObjectStorage, SqlValue } from './runtime-types.js'

/**
 * Creates the tables on first use. Keys (document ids, field names) go through the same
 * `encodeKey` as the Postgres store, so NUL and lone surrogates round-trip; values are JSON text,
 * whose escapes keep any string valid UTF-8.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS synckit_documents (
  document_id TEXT PRIMARY KEY,
  clock TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS synckit_registers (
  document_id TEXT NOT NULL,
  field TEXT NOT NULL,
  value TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  stamp_ms INTEGER NOT NULL,
  stamp_counter INTEGER NOT NULL,
  stamp_node TEXT NOT NULL,
  dot_node TEXT NOT NULL,
  dot_seq INTEGER NOT NULL,
  PRIMARY KEY (document_id, field)
) WITHOUT ROWID;`

const REGISTER_COLUMNS = 'field, value, deleted, stamp_ms, stamp_counter, stamp_node, dot_node, dot_seq'

const UPSERT_REGISTER = `INSERT OR REPLACE INTO synckit_registers (document_id, ${REGISTER_COLUMNS})
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`

const DEFAULT_LIST_LIMIT = 100
const MAX_LIST_LIMIT = 10_000

type Row = Record<string, SqlValue>

/**
 * `DocumentStore` on the object's own SQLite (`ctx.storage.sql`), one row per (document, field).
 * SQLite in a Durable Object is synchronous and the object runs one event at a time, so each save
 * reads the stored register, applies the engine's LWW rule (`registerWins`, ties included) and
 * writes the winner in one `transactionSync`. It then waits for `storage.sync()`: the runtime
 * releases an ack only once the write is durable.
 */
export class DurableObjectSqlStore implements DocumentStore {
  readonly #storage: DurableObjectStorage

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage
    storage.sql.exec(SCHEMA)
  }

  async load(documentId: string): Promise<DocumentSnapshot | undefined> {
    const key = encodeKey(documentId)
    const { sql } = this.#storage
    const [document] = sql.exec('SELECT clock FROM synckit_documents WHERE document_id = ?', key).toArray()
    const rows = sql
      .exec(`SELECT ${REGISTER_COLUMNS} FROM synckit_registers WHERE document_id = ?`, key)
      .toArray()
    if (document === undefined && rows.length === 0) return undefined
    return {
      documentId,
      registers: rows.map(decodeRow),
      clock: document === undefined ? {} : decodeClock(document.clock),
    }
  }

  async save(documents: readonly DocumentSnapshot[]): Promise<void> {
    const batch = mergeBatch(documents)
    if (batch.size === 0) return
    this.#storage.transactionSync(() => {
      for (const [documentId, { clock, registers }] of batch)
        this.#write(encodeKey(documentId), clock, registers.values())
    })
    await this.#storage.sync?.()
  }

  /** Document ids in byte order, `limit` (default 100, max 10000) after `after` (exclusive), starting with `prefix`. */
  async list(options: ListDocumentsOptions = {}): Promise<string[]> {
    const limit = Math.min(MAX_LIST_LIMIT, Math.max(1, Math.floor(options.limit ?? DEFAULT_LIST_LIMIT)))
    const after = options.after === undefined ? '' : encodeKey(options.after)
    const prefix = options.prefix ? encodeKey(options.prefix) : ''
    const rows = this.#storage.sql
      .exec(
        'SELECT document_id FROM synckit_documents WHERE document_id > ? ' +
          'AND document_id >= ? AND substr(document_id, 1, length(?)) = ? ORDER BY document_id LIMIT ?',
        after,
        prefix,
        prefix,
        prefix,
        limit,
      )
      .toArray()
    return rows.map((row) => decodeKey(text(row.document_id, 'document_id')))
  }

  async delete(documentId: string): Promise<boolean> {
    const key = encodeKey(documentId)
    const existed = this.#storage.transactionSync(() => {
      const { sql } = this.#storage
      const found = sql.exec('SELECT 1 FROM synckit_documents WHERE document_id = ?', key).toArray()
      sql.exec('DELETE FROM synckit_registers WHERE document_id = ?', key)
      sql.exec('DELETE FROM synckit_documents WHERE document_id = ?', key)
      return found.length > 0
    })
    await this.#storage.sync?.()
    return existed
  }

  async health(): Promise<boolean> {
    try {
      return this.#storage.sql.exec('SELECT 1 AS ok').toArray().length === 1
    } catch {
      return false
    }
  }

  /** The storage belongs to the object: nothing to close. */
  async close(): Promise<void> {}

  #write(key: string, clock: VectorClock, registers: Iterable<Register>): void {
    const { sql } = this.#storage
    for (const register of registers) {
      const field = encodeKey(register.field)
      const [row] = sql
        .exec(
          `SELECT ${REGISTER_COLUMNS} FROM synckit_registers WHERE document_id = ? AND field = ?`,
          key,
          field,
        )
        .toArray()
      if (row !== undefined && !registerWins(register, decodeRow(row))) continue
      const { stamp, dot } = register
      const value = JSON.stringify(register.deleted ? null : register.value)
      sql.exec(
        UPSERT_REGISTER,
        key,
        field,
        value,
        register.deleted ? 1 : 0,
        stamp.ms,
        stamp.counter,
        stamp.node,
        dot.node,
        dot.seq,
      )
    }
    const [stored] = sql.exec('SELECT clock FROM synckit_documents WHERE document_id = ?', key).toArray()
    const merged = stored === undefined ? {} : decodeClock(stored.clock)
    mergeClockInto(merged, clock)
    sql.exec(
      'INSERT OR REPLACE INTO synckit_documents (document_id, clock) VALUES (?, ?)',
      key,
      JSON.stringify(merged),
    )
  }
}

/** Validates the batch (QUERY_ERROR) and reduces duplicates to their LWW winner and merged clock. */
function mergeBatch(
  documents: readonly DocumentSnapshot[],
): Map<string, { clock: VectorClock; registers: Map<string, Register> }> {
  const batch = new Map<string, { clock: VectorClock; registers: Map<string, Register> }>()
  for (const snapshot of documents) {
    if (typeof snapshot.documentId !== 'string')
      throw new StoreError('QUERY_ERROR', 'documentId must be a string')
    validateClock(snapshot.clock)
    let pending = batch.get(snapshot.documentId)
    if (pending === undefined) {
      pending = { clock: {}, registers: new Map() }
      batch.set(snapshot.documentId, pending)
    }
    mergeClockInto(pending.clock, snapshot.clock)
    for (const register of snapshot.registers) {
      validateRegister(register)
      pending.registers.set(register.field, mergeRegisters(pending.registers.get(register.field), register))
    }
  }
  return batch
}

function decodeRow(row: Row): Register {
  const deleted = row.deleted === 1
  return {
    field: decodeKey(text(row.field, 'field')),
    value: deleted ? null : (JSON.parse(text(row.value, 'value')) as JsonValue),
    deleted,
    stamp: {
      ms: toSafeInt(row.stamp_ms, 'stamp_ms'),
      counter: toSafeInt(row.stamp_counter, 'stamp_counter'),
      node: text(row.stamp_node, 'stamp_node'),
    },
    dot: { node: text(row.dot_node, 'dot_node'), seq: toSafeInt(row.dot_seq, 'dot_seq') },
  }
}

function text(value: SqlValue | undefined, column: string): string {
  if (typeof value !== 'string') throw new StoreError('QUERY_ERROR', `corrupt ${column} column`)
  return value
}
