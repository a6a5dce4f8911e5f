import type { Stamp } from './types.js'

/**
 * Total order of stamps: ms, then counter, then node id (plain `<`, UTF-16 code units), so every
 * node that compares the same two writes picks the same winner.
 */
export function compareStamps(a: Stamp, b: Stamp): -1 | 0 | 1 {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1
  if (a.node !== b.node) return a.node < b.node ? -1 : 1
  return 0
}
