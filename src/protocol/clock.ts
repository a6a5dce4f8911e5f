import { isPlainObject } from './guards.js'
import { setOwn } from './own.js'
import type { VectorClock } from './types.js'

/** Largest accepted counter: far above any honest client, far below what breaks float maths. */
export const MAX_CLOCK_VALUE = 2 ** 48
/** Most entries a vector clock may have on the wire. */
export const MAX_CLOCK_ENTRIES = 1000

/**
 * A client-supplied vector clock with every bad entry dropped (negative, fractional, huge,
 * non-numeric), capped at MAX_CLOCK_ENTRIES. Dropping rather than rejecting: clients send garbage,
 * and a trusted `1e15` would inflate every later echo (D12, docs/protocol.md §6.5).
 * `undefined` when `value` is not an object at all (treated as absent).
 */
export function sanitizeClock(value: unknown): VectorClock | undefined {
  if (!isPlainObject(value)) return undefined
  const clock: VectorClock = {}
  let kept = 0
  for (const key of Object.keys(value)) {
    if (kept >= MAX_CLOCK_ENTRIES) break
    const n = value[key]
    if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= MAX_CLOCK_VALUE) {
      setOwn(clock, key, n)
      kept++
    }
  }
  return clock
}
