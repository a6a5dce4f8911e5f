import type { AwarenessClientState, JsonObject } from './types.js'

/** Bounds of an `AwarenessDocument`. */
export interface AwarenessLimits {
  /** Live clients per document; a new client beyond this is refused ('full'). Default 1000. */
  maxClients?: number
  /** Leave clocks remembered per document (LRU) to reject reordered older updates. Default 1000. */
  maxLeftRemembered?: number
  /**
   * Bytes of remembered leaves per document (LRU), each costing its client id and owner
   * (UTF-16 length) plus 16 for the clock. Default unbounded (only `maxLeftRemembered` applies).
   */
  maxLeftBytes?: number
}

/** What applying a presence update did. */
export type AwarenessResult = 'updated' | 'left' | 'stale' | 'full'

interface RememberedLeave {
  clock: number
  owner: string | undefined
  bytes: number
}

/** What a remembered leave costs against `maxLeftBytes`. */
export function leaveBytes(clientId: string, owner: string | undefined): number {
  return clientId.length + (owner?.length ?? 0) + 16
}

/**
 * Presence of one document (docs/protocol.md §7, D17): per-client last-writer-wins by the
 * client's own clock, leaves remembered so a delayed older update cannot resurrect a client that
 * left, and a bound on clients. Entries are immutable; every accepted update replaces its entry.
 *
 * Each entry and each remembered leave records its `owner`. A remembered leave only holds back
 * updates from the same owner: it protects a client against its own reordered messages, and
 * must not let anyone who used an id once (with a huge clock) lock its next owner out.
 */
export class AwarenessDocument {
  readonly #clients = new Map<string, AwarenessClientState>()
  /** clientId -> its last leave; Map insertion order doubles as LRU order. */
  readonly #left = new Map<string, RememberedLeave>()
  #leftBytes = 0
  readonly #maxClients: number
  readonly #maxLeft: number
  readonly #maxLeftBytes: number

  constructor(limits: AwarenessLimits = {}) {
    this.#maxClients = Math.max(0, limits.maxClients ?? 1000)
    this.#maxLeft = Math.max(0, limits.maxLeftRemembered ?? 1000)
    this.#maxLeftBytes = Math.max(0, limits.maxLeftBytes ?? Number.POSITIVE_INFINITY)
  }

  /** Apply a client's update (`state`) or leave (`state === null`) carrying its own clock. */
  apply(
    clientId: string,
    state: JsonObject | null,
    clock: number,
    now: number,
    owner?: string,
  ): AwarenessResult {
    // A NaN clock would compare false forever and pin the entry; refuse it.
    if (!Number.isFinite(clock)) return 'stale'
    const entry = this.#clients.get(clientId)
    if (state === null) {
      if (entry !== undefined) {
        // Leaves win ties: a leave at the same clock as the last update ends that update.
        if (clock < entry.clock) return 'stale'
        this.#clients.delete(clientId)
        this.#rememberLeave(clientId, clock, entry.owner)
        return 'left'
      }
      const left = this.#left.get(clientId)
      // Someone else's remembered leave is not this owner's to move.
      if (left !== undefined && left.owner !== owner) return 'stale'
      this.#rememberLeave(clientId, Math.max(clock, left?.clock ?? clock), owner)
      return 'left'
    }
    if (entry !== undefined) {
      if (clock <= entry.clock) return 'stale'
    } else {
      const left = this.#left.get(clientId)
      if (left !== undefined && left.owner === owner && left.clock >= clock) return 'stale'
      if (this.#clients.size >= this.#maxClients) return 'full'
      this.#forgetLeave(clientId)
    }
    const updated: AwarenessClientState = { clientId, state, clock, updatedAt: now }
    if (owner !== undefined) updated.owner = owner
    this.#clients.set(clientId, updated)
    return 'updated'
  }

  /** Drop a client whose connection closed; its stored clock becomes its leave clock. */
  remove(clientId: string): AwarenessClientState | undefined {
    const entry = this.#clients.get(clientId)
    if (entry === undefined) return undefined
    this.#clients.delete(clientId)
    this.#rememberLeave(clientId, entry.clock, entry.owner)
    return entry
  }

  /** Remove and return clients not updated for `timeoutMs` (updatedAt + timeoutMs <= now). */
  expire(now: number, timeoutMs: number): AwarenessClientState[] {
    const expired: AwarenessClientState[] = []
    for (const entry of this.#clients.values()) {
      if (entry.updatedAt + timeoutMs <= now) expired.push(entry)
    }
    for (const entry of expired) this.remove(entry.clientId)
    return expired
  }

  /** Every present client. */
  entries(): AwarenessClientState[] {
    return Array.from(this.#clients.values())
  }

  /** One client's presence. */
  get(clientId: string): AwarenessClientState | undefined {
    return this.#clients.get(clientId)
  }

  get size(): number {
    return this.#clients.size
  }

  /** Bytes the remembered leaves cost (see `leaveBytes`). */
  get leftBytes(): number {
    return this.#leftBytes
  }

  #rememberLeave(clientId: string, clock: number, owner: string | undefined): void {
    this.#forgetLeave(clientId) // re-inserted below: most recently used
    const bytes = leaveBytes(clientId, owner)
    if (this.#maxLeft === 0 || bytes > this.#maxLeftBytes) return
    this.#left.set(clientId, { clock, owner, bytes })
    this.#leftBytes += bytes
    while (this.#left.size > this.#maxLeft || this.#leftBytes > this.#maxLeftBytes) {
      const oldest = this.#left.keys().next()
      if (oldest.done) break
      this.#forgetLeave(oldest.value)
    }
  }

  #forgetLeave(clientId: string): void {
    const left = this.#left.get(clientId)
    if (left === undefined) return
    this.#left.delete(clientId)
    this.#leftBytes -= left.bytes
  }
}
