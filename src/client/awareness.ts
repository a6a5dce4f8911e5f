import type { AwarenessEntry, JsonObject } from '../protocol/types.js'

/** Presence of one document: everybody's last state, plus our own state and counter. */
export class AwarenessDoc {
  readonly peers = new Map<string, { state: JsonObject; clock: number }>()
  /** Own state; `undefined` until `set()` is first called. */
  own: JsonObject | null | undefined
  ownClock = 0

  constructor(
    readonly documentId: string,
    private readonly clientId: string,
  ) {}

  /** Record our own new state; returns the clock to send it with. */
  setOwn(state: JsonObject | null): number {
    this.own = state
    this.ownClock++
    if (state === null) this.peers.delete(this.clientId)
    else this.peers.set(this.clientId, { state, clock: this.ownClock })
    return this.ownClock
  }

  /** Next clock for re-sending the unchanged own state (refresh, reconnect). */
  bumpOwn(): number {
    return ++this.ownClock
  }

  /**
   * Apply a peer's entry. `null` removes regardless of clock; a state older than (or as old as)
   * the stored one is ignored, as the SDK core does. Our own entry is ours to decide.
   */
  apply(entry: AwarenessEntry): boolean {
    if (entry.clientId === this.clientId) return false
    if (entry.state === null) return this.peers.delete(entry.clientId)
    const stored = this.peers.get(entry.clientId)
    if (stored && entry.clock <= stored.clock) return false
    this.peers.set(entry.clientId, { state: entry.state, clock: entry.clock })
    return true
  }

  /**
   * The connection is gone: who is present is unknown until the next `awareness_state`, which
   * lists only those present then. Returns the peers forgotten (the own state stays).
   */
  forgetPeers(): Array<{ clientId: string; clock: number }> {
    const forgotten: Array<{ clientId: string; clock: number }> = []
    for (const [clientId, { clock }] of this.peers) {
      if (clientId === this.clientId) continue
      this.peers.delete(clientId)
      forgotten.push({ clientId, clock })
    }
    return forgotten
  }

  snapshot(): Map<string, { state: JsonObject; clock: number }> {
    return new Map([...this.peers].map(([id, entry]) => [id, { ...entry }]))
  }
}
