import type { AwarenessClientState, JsonObject } from './types.js'

/** Bounds of an `AwarenessDocument`. */
export interface AwarenessLimits {
  /** Live clients per document; a new client beyond this is refused ('full'). Default 1000. */
  maxClients?: number
  /** Leave clocks remembered per document (LRU) to reject reordered older updates. Default 1000. */
  maxLeftRemembered?: number
}

/** What applying a presence update did. */
export type AwarenessResult = 'updated' | 'left' | 'stale' | 'full'

/**
 * Presence of one document (PROTOCOL §2.12 with its FIXes): per-client last-writer-wins by the
 * client's own clock, leaves remembered so a delayed older update cannot resurrect a client that
 * left, and a bound on clients. Entries are immutable; every accepted update replaces its entry.
 */
export class AwarenessDocument {
  readonly #clients = new Map<string, AwarenessClientState>()
  /** clientId -> clock of its last leave; Map insertion order doubles as LRU order. */
  readonly #left = new Map<string, number>()
  readonly #maxClients: number
  readonly #maxLeft: number

  constructor(limits: AwarenessLimits = {}) {
    this.#maxClients = Math.max(0, limits.maxClients ?? 1000)
    this.#maxLeft = Math.max(0, limits.maxLeftRemembered ?? 1000)
  }

  /** Apply a client's update (`state`) or leave (`state === null`) carrying its own clock. */
  apply(clientId: string, state: JsonObject | null, clock: number, now: number): AwarenessResult {
    // A NaN clock would compare false forever and pin the entry; refuse it.
    if (!Number.isFinite(clock)) return 'stale'
    const entry = this.#clients.get(clientId)
    if (state === null) {
      // Leaves win ties: a leave at the same clock as the last update ends that update.
      if (entry !== undefined && clock < entry.clock) return 'stale'
      this.#clients.delete(clientId)
      this.#rememberLeave(clientId, Math.max(clock, this.#left.get(clientId) ?? clock))
      return 'left'
    }
    if (entry !== undefined) {
      if (clock <= entry.clock) return 'stale'
    } else {
      const leftAt = this.#left.get(clientId)
      if (leftAt !== undefined && leftAt >= clock) return 'stale'
      if (this.#clients.size >= this.#maxClients) return 'full'
      this.#left.delete(clientId)
    }
    this.#clients.set(clientId, { clientId, state, clock, updatedAt: now })
    return 'updated'
  }

  /** Drop a client whose connection closed; its stored clock becomes its leave clock. */
  remove(clientId: string): AwarenessClientState | undefined {
    const entry = this.#clients.get(clientId)
    if (entry === undefined) return undefined
    this.#clients.delete(clientId)
    this.#rememberLeave(clientId, entry.clock)
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

  #rememberLeave(clientId: string, clock: number): void {
    if (this.#maxLeft === 0) return
    this.#left.delete(clientId) // re-insert to mark most recently used
    this.#left.set(clientId, clock)
    if (this.#left.size > this.#maxLeft) {
      const oldest = this.#left.keys().next()
      if (!oldest.done) this.#left.delete(oldest.value)
    }
  }
}
