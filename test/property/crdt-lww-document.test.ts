import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LwwDocument, type Register } from '../../src/crdt/index.js'
import { fieldArb, jsonArb, nodeArb, registerArb } from './crdt-arbitraries.js'

const byField = (rs: Iterable<Register>): Register[] =>
  [...rs].sort((x, y) => (x.field < y.field ? -1 : x.field > y.field ? 1 : 0))

/** Everything observable about a document, in a canonical order. */
const observe = (doc: LwwDocument) => ({
  state: doc.state(),
  registers: byField(doc.registers()),
  clock: doc.clock(),
  size: doc.size,
  live: doc.liveFieldCount,
  clockMax: doc.clockMax(),
})

describe('LwwDocument (property)', () => {
  it('applying the same remote registers in any order, with duplicates, converges', () => {
    fc.assert(
      fc.property(
        fc.array(registerArb(), { minLength: 1, maxLength: 25 }).chain((rs) =>
          fc.tuple(
            fc.constant(rs),
            // Another delivery order of the same set, with some registers delivered twice.
            fc
              .shuffledSubarray(rs, { minLength: 0, maxLength: rs.length })
              .chain((dups) => fc.shuffledSubarray([...rs, ...dups], { minLength: rs.length + dups.length })),
          ),
        ),
        ([rs, other]) => {
          const a = new LwwDocument('d')
          const b = new LwwDocument('d')
          for (const r of rs) a.applyRemote(r)
          for (const r of other) b.applyRemote(structuredClone(r))
          expect(observe(b)).toEqual(observe(a))
          // Reloading from a snapshot is one more replica that must agree.
          expect(observe(new LwwDocument('d', a.snapshot()))).toEqual(observe(a))
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('replica catch-up: prefix of writes + missing(replica clock) reconstructs the source', () => {
    const writeArb = fc.record({
      field: fieldArb,
      value: jsonArb,
      deleted: fc.boolean(),
      node: nodeArb,
      // Wall time may stall or go backwards; stamps come from each node's own monotonic counter.
      ms: fc.integer({ min: 0, max: 5 }),
      minSeq: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
    })
    fc.assert(
      fc.property(fc.array(writeArb, { maxLength: 30 }), fc.nat(), (writes, cut) => {
        const source = new LwwDocument('d')
        const counters = new Map<string, number>()
        const log: Register[] = []
        for (const w of writes) {
          const counter = (counters.get(w.node) ?? -1) + 1
          counters.set(w.node, counter)
          const { register } = source.localWrite({
            field: w.field,
            value: w.value,
            deleted: w.deleted,
            stamp: { ms: w.ms, counter, node: w.node },
            minSeq: w.minSeq,
          })
          log.push(register)
        }
        const replica = new LwwDocument('d')
        for (const r of log.slice(0, writes.length === 0 ? 0 : cut % (writes.length + 1))) {
          replica.applyRemote(r)
        }
        const delta = source.missing(replica.clock())
        for (const r of delta) replica.applyRemote(r)
        expect(replica.state()).toEqual(source.state())
        expect(byField(replica.registers())).toEqual(byField(source.registers()))
        // missing() is exact: nothing it returns was already seen, and afterwards nothing is missing.
        expect(source.missing(replica.clock())).toEqual([])
      }),
      { numRuns: 1000 },
    )
  })
})
