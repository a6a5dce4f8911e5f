import { compareStamps } from './stamp.js'
import type { Register } from './types.js'

/**
 * Whether `incoming` replaces `existing` under LWW. Stamps are unique per write, so equal stamps
 * mean the same write replayed; the tie-breaks below only keep merge commutative if that
 * assumption is ever broken (tombstone first, then the JSON text, then the dot).
 * Identical registers never win, so re-applying a write is a no-op.
 */
export function registerWins(incoming: Register, existing: Register | undefined): boolean {
  if (existing === undefined) return true
  const byStamp = compareStamps(incoming.stamp, existing.stamp)
  if (byStamp !== 0) return byStamp > 0
  if (incoming.deleted !== existing.deleted) return incoming.deleted
  const a = JSON.stringify(incoming.value)
  const b = JSON.stringify(existing.value)
  if (a !== b) return a > b
  if (incoming.dot.seq !== existing.dot.seq) return incoming.dot.seq > existing.dot.seq
  return incoming.dot.node > existing.dot.node
}

/** The LWW winner of two registers of the same field. */
export function mergeRegisters(a: Register | undefined, b: Register): Register {
  return a !== undefined && !registerWins(b, a) ? a : b
}
