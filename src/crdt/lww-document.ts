import { setOwn } from '../protocol/own.js'
import { registerWins } from './register.js'
import type { DocumentSnapshot, JsonObject, JsonValue, Register, Stamp, VectorClock } from './types.js'
import { dotSeen } from './vector-clock.js'

/** A write stamped by this node, before it has a dot. */
export interface LocalWrite {
  field: string
  value: JsonValue
  deleted: boolean
  /** Becomes part of the stored register: pass a fresh stamp and do not change it afterwards. */
  stamp: Stamp
  /**
   * Lower bound for the dot's seq: lets the server lift its counter to at least a client's own
   * counter, so SDK clients comparing `max(clock)` accept the echo (D5, docs/protocol.md §6.4).
   */
  minSeq?: number
}

/** The register after a local write, and whether it won. */
export interface LocalWriteResult {
  /** The register created for this write (with its dot), whether or not it won. */
  register: Register
  /** False when an existing register with a greater stamp kept the field. */
  applied: boolean
}

/** Registers are stored as immutable values: copy the mutable parts once on the way in. */
const copyRegister = (r: Register): Register => ({
  field: r.field,
  value: r.deleted ? null : r.value,
  deleted: r.deleted,
  stamp: { ms: r.stamp.ms, counter: r.stamp.counter, node: r.stamp.node },
  dot: { node: r.dot.node, seq: r.dot.seq },
})

/**
 * One document: field -> LWW register (tombstones kept, so a stale write can never resurrect a
 * deleted field) plus a vector clock (node -> highest dot seq seen). Memory is proportional to
 * the number of fields and nodes; there is no per-write history, only each field's winning dot.
 */
export class LwwDocument {
  readonly documentId: string
  // Maps, not objects: field and node names are untrusted (`__proto__`, `constructor`).
  readonly #fields = new Map<string, Register>()
  readonly #clock = new Map<string, number>()
  #live = 0
  #clockMax = 0
  #clockVersion = 0

  constructor(documentId: string, snapshot?: DocumentSnapshot) {
    this.documentId = documentId
    if (snapshot === undefined) return
    for (const [node, seq] of Object.entries(snapshot.clock)) this.#advance(node, seq)
    for (const register of snapshot.registers) this.applyRemote(register)
  }

  /** Stamp-ordered write originating on this node: assigns the next dot for `stamp.node`. */
  localWrite(write: LocalWrite): LocalWriteResult {
    const node = write.stamp.node
    const next = (this.#clock.get(node) ?? 0) + 1
    const floor = write.minSeq !== undefined && Number.isFinite(write.minSeq) ? Math.floor(write.minSeq) : 0
    const seq = Math.max(next, floor)
    // The clock advances even if the write loses: the dot was issued and may be replicated.
    this.#advance(node, seq)
    // The stamp is kept as given (a fresh `HybridLogicalClock.now()` result): see `LocalWrite`.
    const register: Register = {
      field: write.field,
      value: write.deleted ? null : write.value,
      deleted: write.deleted,
      stamp: write.stamp,
      dot: { node, seq },
    }
    return { register, applied: this.#put(register) }
  }

  /**
   * Merge a register replicated from another node or loaded from the store. Returns true iff it
   * became the field's winner (so it should be broadcast); duplicates and losers return false.
   */
  applyRemote(register: Register): boolean {
    this.#advance(register.dot.node, register.dot.seq)
    // Copy first so the comparison sees the normalised register (tombstone value null).
    return this.#put(copyRegister(register))
  }

  /** The register of a field. */
  get(field: string): Register | undefined {
    return this.#fields.get(field)
  }

  /** Every register, tombstones included. */
  registers(): IterableIterator<Register> {
    return this.#fields.values()
  }

  /** Registers held, tombstones included. */
  get size(): number {
    return this.#fields.size
  }

  /** Fields with a visible (non-deleted) value. */
  get liveFieldCount(): number {
    return this.#live
  }

  /** field -> value of every live field, as a fresh plain object. */
  state(): JsonObject {
    const out: JsonObject = {}
    for (const r of this.#fields.values()) if (!r.deleted) setOwn(out, r.field, r.value)
    return out
  }

  /** Exactly the registers (tombstones included) whose dot a replica at `since` has not seen. */
  missing(since: VectorClock): Register[] {
    const out: Register[] = []
    for (const r of this.#fields.values()) if (!dotSeen(since, r.dot)) out.push(r)
    return out
  }

  /** A copy of the vector clock. */
  clock(): VectorClock {
    const out: VectorClock = {}
    for (const [node, seq] of this.#clock) setOwn(out, node, seq)
    return out
  }

  /** The largest entry of the vector clock. */
  clockMax(): number {
    return this.#clockMax
  }

  /** Grows whenever the clock changes: tells a holder whether the clock it stored is still current. */
  get clockVersion(): number {
    return this.#clockVersion
  }

  /**
   * Lifts `node`'s entry to at least `seq` without a write. Sound for dots: that node's later
   * writes take higher sequences, so no register can hide below the lifted entry. Used to make an
   * echo's clock exceed every clock sent before (SyncKit clients compare `max(clock)`).
   */
  advanceClock(node: string, seq: number): void {
    this.#advance(node, Math.floor(seq))
  }

  /** Registers and clock, copied (what a store saves). */
  snapshot(): DocumentSnapshot {
    return {
      documentId: this.documentId,
      registers: Array.from(this.#fields.values(), copyRegister),
      clock: this.clock(),
    }
  }

  /** Store `register` if it beats the current one; keeps the live-field count in step. */
  #put(register: Register): boolean {
    const existing = this.#fields.get(register.field)
    if (!registerWins(register, existing)) return false
    this.#live += (register.deleted ? 0 : 1) - (existing === undefined || existing.deleted ? 0 : 1)
    this.#fields.set(register.field, register)
    return true
  }

  #advance(node: string, seq: number): void {
    // A non-finite seq (corrupt input) would make every later dot NaN or unreachable.
    if (!Number.isFinite(seq)) return
    if (seq > (this.#clock.get(node) ?? 0)) {
      this.#clock.set(node, seq)
      this.#clockVersion++
      if (seq > this.#clockMax) this.#clockMax = seq
    }
  }
}
