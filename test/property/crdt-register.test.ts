import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { mergeRegisters } from '../../src/crdt/index.js'
import { registerArb } from './crdt-arbitraries.js'

const runs = { numRuns: 2000 }
const sameField = registerArb(fc.constant('f'))

describe('register merge (property)', () => {
  it('is commutative', () => {
    fc.assert(
      fc.property(sameField, sameField, (a, b) => {
        expect(mergeRegisters(a, b)).toEqual(mergeRegisters(b, a))
      }),
      runs,
    )
  })

  it('is associative', () => {
    fc.assert(
      fc.property(sameField, sameField, sameField, (a, b, c) => {
        expect(mergeRegisters(mergeRegisters(a, b), c)).toEqual(mergeRegisters(a, mergeRegisters(b, c)))
      }),
      runs,
    )
  })

  it('is idempotent', () => {
    fc.assert(
      fc.property(sameField, sameField, (a, b) => {
        expect(mergeRegisters(a, a)).toBe(a)
        expect(mergeRegisters(a, structuredClone(a))).toBe(a)
        const ab = mergeRegisters(a, b)
        expect(mergeRegisters(ab, b)).toBe(ab)
        expect(mergeRegisters(ab, a)).toBe(ab)
      }),
      runs,
    )
  })

  it('picks the same winner whatever the fold order', () => {
    fc.assert(
      fc.property(fc.array(sameField, { minLength: 1, maxLength: 8 }), (rs) => {
        const fold = (list: typeof rs) => list.reduce((acc, r) => mergeRegisters(acc, r), list[0]!)
        expect(fold([...rs].reverse())).toEqual(fold(rs))
      }),
      runs,
    )
  })
})
