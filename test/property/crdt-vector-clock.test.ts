import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  clockMax,
  compareClocks,
  concurrent,
  happenedBefore,
  mergeClockInto,
  mergeClocks,
  type VectorClock,
} from '../../src/crdt/index.js'
import { clockArb } from './crdt-arbitraries.js'

const runs = { numRuns: 1000 }
/** Missing entries count as 0, so compare clocks with zeros dropped. */
const norm = (c: VectorClock): VectorClock => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== 0))

describe('vector clock laws (property)', () => {
  it('merge is commutative, associative and idempotent', () => {
    fc.assert(
      fc.property(clockArb, clockArb, clockArb, (a, b, c) => {
        expect(mergeClocks(a, b)).toEqual(mergeClocks(b, a))
        expect(mergeClocks(mergeClocks(a, b), c)).toEqual(mergeClocks(a, mergeClocks(b, c)))
        expect(mergeClocks(a, a)).toEqual(a)
        expect(Object.getPrototypeOf(mergeClocks(a, b))).toBe(Object.prototype)
      }),
      runs,
    )
  })

  it('merge is an upper bound, and mergeClockInto agrees with mergeClocks', () => {
    fc.assert(
      fc.property(clockArb, clockArb, (a, b) => {
        const m = mergeClocks(a, b)
        expect(['equal', 'after']).toContain(compareClocks(m, a))
        expect(['equal', 'after']).toContain(compareClocks(m, b))
        const target = { ...mergeClocks({}, a) }
        const changed = mergeClockInto(target, b)
        expect(target).toEqual(m)
        expect(changed).toBe(
          Object.keys(m).length !== Object.keys(a).length || compareClocks(m, a) !== 'equal',
        )
        expect(clockMax(m)).toBe(Math.max(clockMax(a), clockMax(b)))
      }),
      runs,
    )
  })

  it('happenedBefore is irreflexive, antisymmetric and transitive', () => {
    fc.assert(
      fc.property(clockArb, clockArb, clockArb, (a, b, c) => {
        expect(happenedBefore(a, a)).toBe(false)
        if (happenedBefore(a, b)) expect(happenedBefore(b, a)).toBe(false)
        // Build a chain a ≤ ab ≤ abc so transitivity is exercised, not vacuous.
        const ab = mergeClocks(a, b)
        const abc = mergeClocks(ab, c)
        if (happenedBefore(a, ab) && happenedBefore(ab, abc)) expect(happenedBefore(a, abc)).toBe(true)
        if (happenedBefore(a, b) && happenedBefore(b, c)) expect(happenedBefore(a, c)).toBe(true)
      }),
      runs,
    )
  })

  it('compareClocks is consistent with happenedBefore and concurrent', () => {
    fc.assert(
      fc.property(clockArb, clockArb, (a, b) => {
        const order = compareClocks(a, b)
        expect(order === 'before').toBe(happenedBefore(a, b))
        expect(order === 'after').toBe(happenedBefore(b, a))
        expect(order === 'concurrent').toBe(concurrent(a, b))
        expect(order === 'equal').toBe(JSON.stringify(sorted(norm(a))) === JSON.stringify(sorted(norm(b))))
        const flipped = { before: 'after', after: 'before', equal: 'equal', concurrent: 'concurrent' }[order]
        expect(compareClocks(b, a)).toBe(flipped)
      }),
      runs,
    )
  })
})

const sorted = (c: VectorClock): [string, number][] =>
  Object.entries(c).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
