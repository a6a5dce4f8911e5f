import { getOwn, setOwn } from '../protocol/own.js'
import type { JsonObject, JsonValue, VectorClock } from '../protocol/types.js'
import { isTombstone, jsonEqual, mergeClock } from './json.js'
import type { DocumentReplica } from './types.js'

/** A local write not yet acknowledged: shown on top of the server state until it settles. */
interface PendingWrite {
  /** field -> wire value (the tombstone marker for deletes). */
  fields: Map<string, JsonValue>
  /** Fields for which some echo arrived after this write was made. */
  echoed: Set<string>
  /** Fields echoed with exactly this write's value (the legacy dialect's confirmation). */
  matched: Set<string>
}

/**
 * One document as the client knows it: the server's state (which it adopts unconditionally, the
 * server being authoritative) plus an overlay of pending local writes, so reads see them at once.
 */
export class Replica implements DocumentReplica {
  readonly clock: VectorClock = {}
  synced = false
  /** `subscribe()` was called: re-subscribe after reconnects. */
  subscribed = false
  private readonly confirmed = new Map<string, JsonValue>()
  private readonly pending = new Map<string, PendingWrite>()
  private counter = 0

  constructor(readonly documentId: string) {}

  get(field: string): JsonValue | undefined {
    let value = this.confirmed.get(field)
    for (const write of this.pending.values()) {
      if (write.fields.has(field)) value = write.fields.get(field)
    }
    return value === undefined || isTombstone(value) ? undefined : value
  }

  toJSON(): Record<string, JsonValue> {
    const fields = new Set(this.confirmed.keys())
    for (const write of this.pending.values()) for (const field of write.fields.keys()) fields.add(field)
    const out: Record<string, JsonValue> = {}
    for (const field of fields) {
      const value = this.get(field)
      if (value !== undefined) setOwn(out, field, value)
    }
    return out
  }

  /** The clock of a new op by `clientId`: own counter bumped past anything seen, merged with ours. */
  nextOpClock(clientId: string): VectorClock {
    this.counter = Math.max(this.counter, getOwn(this.clock, clientId) ?? 0) + 1
    const clock: VectorClock = { ...this.clock }
    setOwn(clock, clientId, this.counter)
    return clock
  }

  /** Record a local write; returns the fields whose visible value changed. */
  addPending(messageId: string, fields: Map<string, JsonValue>): string[] {
    return this.tracking([...fields.keys()], () => {
      this.pending.set(messageId, { fields, echoed: new Set(), matched: new Set() })
    })
  }

  /**
   * Adopt a server echo. Returns the visible changes and the pending writes that echoes have now
   * confirmed field by field with their own values.
   */
  applyEcho(
    field: string,
    value: JsonValue,
    clock: VectorClock | undefined,
  ): { changed: boolean; matched: string[] } {
    mergeClock(this.clock, clock)
    const matched: string[] = []
    const changed = this.tracking([field], () => {
      this.setConfirmed(field, value)
      for (const [messageId, write] of this.pending) {
        if (!write.fields.has(field)) continue
        write.echoed.add(field)
        if (jsonEqual(write.fields.get(field), value)) write.matched.add(field)
        if (write.matched.size === write.fields.size) matched.push(messageId)
      }
    })
    return { changed: changed.length > 0, matched }
  }

  /**
   * Apply a `sync_response`: `state` replaces the server state, then `deltas` entries in the
   * `{field, value, deleted?}` shape are applied on top. Returns the visibly changed fields.
   */
  applySync(state: JsonObject, clock: VectorClock, deltas: readonly JsonObject[]): string[] {
    mergeClock(this.clock, clock)
    const touched = new Set([...this.confirmed.keys(), ...Object.keys(state)])
    const updates: Array<[string, JsonValue]> = []
    for (const delta of deltas) {
      const field = getOwn(delta, 'field')
      const value = getOwn(delta, 'value')
      if (typeof field !== 'string' || value === undefined) continue
      updates.push([field, getOwn(delta, 'deleted') === true ? { __deleted: true } : value])
      touched.add(field)
      const deltaClock = getOwn(delta, 'clock')
      if (typeof deltaClock === 'object' && deltaClock !== null && !Array.isArray(deltaClock)) {
        mergeClock(this.clock, deltaClock)
      }
    }
    this.synced = true
    return this.tracking([...touched], () => {
      this.confirmed.clear()
      for (const [field, value] of Object.entries(state)) this.setConfirmed(field, value)
      for (const [field, value] of updates) this.setConfirmed(field, value)
    })
  }

  /**
   * A write settled. Acknowledged: fields no echo has covered yet are promoted to the server
   * state (servers that ack before echoing). Failed: the overlay is dropped (a rollback).
   */
  settle(messageId: string, ok: boolean): string[] {
    const write = this.pending.get(messageId)
    if (!write) return []
    return this.tracking([...write.fields.keys()], () => {
      this.pending.delete(messageId)
      if (!ok) return
      for (const [field, value] of write.fields) if (!write.echoed.has(field)) this.setConfirmed(field, value)
    })
  }

  hasPending(messageId: string): boolean {
    return this.pending.has(messageId)
  }

  private setConfirmed(field: string, value: JsonValue): void {
    if (isTombstone(value)) this.confirmed.delete(field)
    else this.confirmed.set(field, value)
  }

  /** Run `mutate`; report which of `fields` changed their visible value. */
  private tracking(fields: string[], mutate: () => void): string[] {
    const before = fields.map((field) => this.get(field))
    mutate()
    return fields.filter((field, i) => !jsonEqual(before[i], this.get(field)))
  }
}
