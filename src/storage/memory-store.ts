import { mergeClockInto, registerWins } from '../crdt/index.js'
import type { DocumentSnapshot, JsonObject, JsonValue, Register, VectorClock } from '../crdt/types.js'
import { setOwn } from '../protocol/own.js'
import type { DocumentStore } from './store.js'

interface StoredDocument {
  registers: Map<string, Register>
  clock: VectorClock
}

/**
 * The default store: documents in process memory, merged by the same LWW rule as the engine and
 * the Postgres upsert, so saving a batch twice, or two nodes' batches in any order, converges.
 * Everything crossing the boundary is deep-copied: neither side can alias the other's objects.
 * `close()` keeps the data, so one instance can outlive a server (e.g. to simulate a restart).
 */
export class MemoryStore implements DocumentStore {
  readonly #documents = new Map<string, StoredDocument>()

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
  }
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
