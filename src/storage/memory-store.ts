import { mergeClockInto, registerWins } from '../crdt/index.js'
import type { DocumentSnapshot, JsonObject, JsonValue, Register, VectorClock } from '../crdt/types.js'
import { setOwn } from '../protocol/own.js'
import { compareStoredKeys, encodeKey, listLimit } from './codec.js'
import type { DocumentStore, ListDocumentsOptions } from './store.js'

interface StoredDocument {
  registers: Map<string, Register>
  clock: VectorClock
}

/** A document id with the key the SQL stores order it by. */
interface ListEntry {
  id: string
  key: string
}

/**
 * The default store: documents in process memory, merged by the same LWW rule as the engine and
 * the Postgres upsert, so saving a batch twice, or two nodes' batches in any order, converges.
 * Everything crossing the boundary is deep-copied: neither side can alias the other's objects.
 * `close()` keeps the data, so one instance can outlive a server (e.g. to simulate a restart).
 */
export class MemoryStore implements DocumentStore {
  readonly #documents = new Map<string, StoredDocument>()
  /** Ids in `list` order, rebuilt on the first `list` after a document was added or removed. */
  #ordered: ListEntry[] | undefined

  async load(documentId: string): Promise<DocumentSnapshot | undefined> {
    const stored = this.#documents.get(documentId)
    if (!stored) return undefined
    return structuredClone({ documentId, registers: [...stored.registers.values()], clock: stored.clock })
  }

  async save(documents: readonly DocumentSnapshot[]): Promise<void> {
    for (const snapshot of documents) {
      let stored = this.#documents.get(snapshot.documentId)
      if (!stored) {
        stored = { registers: new Map(), clock: {} }
        this.#documents.set(snapshot.documentId, stored)
        this.#ordered = undefined
      }
      for (const register of snapshot.registers) {
        // Only winners are kept, so only they are copied (clock counters are copied by value).
        if (registerWins(register, stored.registers.get(register.field))) {
          stored.registers.set(register.field, copyRegister(register))
        }
      }
      mergeClockInto(stored.clock, snapshot.clock)
    }
  }

  /**
   * Document ids in the SQL stores' order (their stored keys in byte order), so an export is the
   * same bytes from every store: up to `limit` (default 100, at most 10,000) after `after`.
   */
  async list(options: ListDocumentsOptions = {}): Promise<string[]> {
    this.#ordered ??= [...this.#documents.keys()]
      .map((id) => ({ id, key: encodeKey(id) }))
      .sort((a, b) => compareStoredKeys(a.key, b.key))
    const ordered = this.#ordered
    const { after, prefix } = options
    const start = after === undefined ? 0 : firstAfter(ordered, encodeKey(after))
    const limit = listLimit(options.limit)
    if (!prefix) return ordered.slice(start, start + limit).map((entry) => entry.id)
    const ids: string[] = []
    for (let i = start; i < ordered.length && ids.length < limit; i++) {
      const id = (ordered[i] as ListEntry).id
      if (id.startsWith(prefix)) ids.push(id)
    }
    return ids
  }

  /** Forgets the document's registers and clock: a later save starts it afresh. */
  async delete(documentId: string): Promise<boolean> {
    const existed = this.#documents.delete(documentId)
    if (existed) this.#ordered = undefined
    return existed
  }

  async health(): Promise<boolean> {
    return true
  }

  async close(): Promise<void> {}

  /** Ids of stored documents (tests, tooling). */
  documentIds(): string[] {
    return [...this.#documents.keys()]
  }

  get size(): number {
    return this.#documents.size
  }

  /** Forgets every document. */
  clear(): void {
    this.#documents.clear()
    this.#ordered = undefined
  }
}

/** Index of the first entry whose key sorts after `key` (binary search). */
function firstAfter(ordered: readonly ListEntry[], key: string): number {
  let low = 0
  let high = ordered.length
  while (low < high) {
    const mid = (low + high) >>> 1
    if (compareStoredKeys((ordered[mid] as ListEntry).key, key) <= 0) low = mid + 1
    else high = mid
  }
  return low
}

/**
 * A deep copy of a register, far cheaper than `structuredClone` on the persist path of every
 * write. Values are JSON; anything else (a caller's Date, Map, …) still goes through
 * `structuredClone`.
 */
function copyRegister(register: Register): Register {
  const { stamp, dot } = register
  return {
    field: register.field,
    value: copyJson(register.value),
    deleted: register.deleted,
    stamp: { ms: stamp.ms, counter: stamp.counter, node: stamp.node },
    dot: { node: dot.node, seq: dot.seq },
  }
}

function copyJson(value: JsonValue): JsonValue {
  if (value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map(copyJson)
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) {
    return structuredClone(value)
  }
  const copy: JsonObject = {}
  for (const key of Object.keys(value)) setOwn(copy, key, copyJson(value[key] as JsonValue))
  return copy
}
