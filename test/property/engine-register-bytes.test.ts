import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { registerBytes } from '../../src/engine/writes.js'

const utf8 = (text: string) => new TextEncoder().encode(text).length

describe('registerBytes (the per-document quota measure)', () => {
  it('is the UTF-8 size of the field name plus the JSON of the value, scalars included', () => {
    const value = fc.oneof(
      fc.double(),
      fc.integer(),
      fc.constantFrom(0, -0, 1e21, 1e-7, Number.MAX_VALUE, Number.NaN, Number.POSITIVE_INFINITY),
      fc.boolean(),
      fc.constant(null),
      fc.string({ unit: 'grapheme' }),
      fc.jsonValue(),
    )
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1 }), value, (field, v) => {
        expect(registerBytes(field, v, false)).toBe(utf8(field) + utf8(JSON.stringify(v)))
      }),
      { numRuns: 3000 },
    )
  })

  it('counts only the name of a tombstone', () => {
    expect(registerBytes('naïve', { big: 'x'.repeat(100) }, true)).toBe(6)
  })
})
