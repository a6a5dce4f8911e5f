import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compareStamps, HybridLogicalClock, type Stamp } from '../../src/crdt/index.js'

const wallArb = fc.oneof(
  fc.integer({ min: -5, max: 50 }),
  fc.double({ min: -10, max: 60 }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0),
)
const remoteArb: fc.Arbitrary<Stamp> = fc.record({
  ms: fc.integer({ min: 0, max: 60 }),
  counter: fc.integer({ min: 0, max: 5 }),
  node: fc.constantFrom('a', 'm', 'z', 'zzzz'),
})
const opArb = fc.oneof(
  wallArb.map((wall) => ({ kind: 'now' as const, wall })),
  remoteArb.map((stamp) => ({ kind: 'observe' as const, stamp })),
)

describe('HybridLogicalClock (property)', () => {
  it('issues strictly increasing stamps above everything observed, whatever the wall clock does', () => {
    fc.assert(
      fc.property(fc.constantFrom('a', 'm', 'z'), fc.array(opArb, { maxLength: 60 }), (node, ops) => {
        const hlc = new HybridLogicalClock(node)
        let max: Stamp | undefined
        for (const op of ops) {
          if (op.kind === 'observe') {
            hlc.observe(op.stamp)
            if (max === undefined || compareStamps(op.stamp, max) > 0) max = op.stamp
            continue
          }
          const s = hlc.now(op.wall)
          expect(Number.isFinite(s.ms) && Number.isFinite(s.counter)).toBe(true)
          expect(s.node).toBe(node)
          if (max !== undefined) expect(compareStamps(s, max)).toBe(1)
          max = s
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('a clock resumed from last never reissues a stamp', () => {
    fc.assert(
      fc.property(fc.array(wallArb, { minLength: 1, maxLength: 20 }), wallArb, (walls, next) => {
        const hlc = new HybridLogicalClock('n')
        let issued: Stamp | undefined
        for (const w of walls) issued = hlc.now(w)
        const resumed = new HybridLogicalClock('n', hlc.last)
        expect(compareStamps(resumed.now(next), issued!)).toBe(1)
      }),
      { numRuns: 1000 },
    )
  })
})
