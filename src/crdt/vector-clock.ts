import { getOwn, setOwn } from '../protocol/own.js'
import type { Dot, VectorClock } from './types.js'

/** Missing entries count as 0 (as in every SyncKit implementation). */
const entry = (clock: VectorClock, node: string): number => getOwn(clock, node) ?? 0

/** Pointwise max, as a new object. */
export function mergeClocks(a: VectorClock, b: VectorClock): VectorClock {
  const out: VectorClock = {}
  for (const [node, seq] of Object.entries(a)) setOwn(out, node, seq)
  mergeClockInto(out, b)
  return out
}

/** Pointwise max into `target` (mutated). Returns true iff some entry grew or was added. */
export function mergeClockInto(target: VectorClock, source: VectorClock): boolean {
  let changed = false
  for (const [node, seq] of Object.entries(source)) {
    const current = getOwn(target, node)
    if (current === undefined || seq > current) {
      setOwn(target, node, current === undefined ? seq : Math.max(current, seq))
      changed = true
    }
  }
  return changed
}

/** How two vector clocks compare. */
export type ClockOrder = 'equal' | 'before' | 'after' | 'concurrent'

/** Causal order of `a` relative to `b`. */
export function compareClocks(a: VectorClock, b: VectorClock): ClockOrder {
  let less = false
  let greater = false
  const visit = (node: string): void => {
    const x = entry(a, node)
    const y = entry(b, node)
    if (x < y) less = true
    else if (x > y) greater = true
  }
  for (const node of Object.keys(a)) visit(node)
  for (const node of Object.keys(b)) if (!Object.hasOwn(a, node)) visit(node)
  if (less && greater) return 'concurrent'
  if (less) return 'before'
  if (greater) return 'after'
  return 'equal'
}

/** `a` ≤ `b` everywhere and < somewhere. */
export function happenedBefore(a: VectorClock, b: VectorClock): boolean {
  return compareClocks(a, b) === 'before'
}

/** Neither happened before the other, and not equal. */
export function concurrent(a: VectorClock, b: VectorClock): boolean {
  return compareClocks(a, b) === 'concurrent'
}

/** Largest entry; 0 for an empty clock. What SyncKit clients read as the echo's counter (D5, docs/protocol.md §6.4). */
export function clockMax(c: VectorClock): number {
  let max = 0
  // for-in with an own check: `Object.values` would allocate an array on every write.
  for (const node in c) {
    if (!Object.hasOwn(c, node)) continue
    const seq = c[node] as number
    if (seq > max) max = seq
  }
  return max
}

/** Whether a replica whose clock is `clock` has already seen the write `dot`. */
export function dotSeen(clock: VectorClock, dot: Dot): boolean {
  return entry(clock, dot.node) >= dot.seq
}
