import type { JsonObject, JsonValue, VectorClock } from '../protocol/types.js'

/**
 * Total order of writes: hybrid logical clock time (ms), then its logical counter, then the id of
 * the node that stamped the write. Compared lexicographically in that order; node ids by UTF-16
 * code unit order (plain `<` on strings).
 */
export interface Stamp {
  ms: number
  counter: number
  node: string
}

/** A write's position in its origin node's per-document sequence: `(node, seq)`. */
export interface Dot {
  node: string
  seq: number
}

/** One field of a document. A delete is a register with `deleted: true` (a tombstone, kept). */
export interface Register {
  field: string
  /** `null` for tombstones; `null` with `deleted: false` is the JSON value null. */
  value: JsonValue
  deleted: boolean
  stamp: Stamp
  dot: Dot
}

/** What a store loads and what a node replicates: registers plus the document's vector clock. */
export interface DocumentSnapshot {
  documentId: string
  registers: Register[]
  /** node -> highest seq seen for this document. */
  clock: VectorClock
}

/** One client's presence entry in a document. */
export interface AwarenessClientState {
  clientId: string
  state: JsonObject
  clock: number
  /** ms of the last accepted update (runtime time, injected). */
  updatedAt: number
  /** Who announced it (opaque to the CRDT; the engine decides who may update an entry). */
  owner?: string
}

export type { JsonObject, JsonValue, VectorClock }
