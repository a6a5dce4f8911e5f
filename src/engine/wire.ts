import type { Register } from '../crdt/types.js'
import type { JsonObject, JsonValue, VectorClock } from '../protocol/types.js'
import type { EngineContext } from './context.js'
import type { DocumentEntry } from './state.js'

/** The value a tombstone (or a field that never existed) is echoed as (docs/protocol.md §6.2). */
export const TOMBSTONE_VALUE: JsonObject = Object.freeze({ __deleted: true }) as JsonObject

/** A register as the wire shows it: tombstones become `{__deleted: true}`. */
export function wireValue(register: Register): JsonValue {
  return register.deleted ? TOMBSTONE_VALUE : register.value
}

/** Never empty (an empty clock crashes the SDK: D6, docs/protocol.md §6.4). */
export function wireClock(ctx: EngineContext, entry: DocumentEntry): VectorClock {
  const clock = entry.doc?.clock() ?? {}
  for (const _ in clock) return clock
  return { [ctx.nodeId]: 0 }
}

/**
 * Missed registers in the `deltas` shape of `sync_response` / `sync_step2`. Each carries the
 * document clock, as echoes do, not its own dot: SDK clients adopt a value only if max(clock)
 * reaches their own counter (D5, docs/protocol.md §6.4), and a winner written elsewhere can have a lower dot than a
 * losing write of the client's. The reply holds every missed register, so the whole clock is true.
 */
export function deltasSince(ctx: EngineContext, entry: DocumentEntry, since: VectorClock): JsonObject[] {
  if (!entry.doc) return []
  const clock = wireClock(ctx, entry)
  return entry.doc.missing(since).map((register) => ({
    field: register.field,
    value: wireValue(register),
    ...(register.deleted ? { deleted: true } : {}),
    clock,
  }))
}
