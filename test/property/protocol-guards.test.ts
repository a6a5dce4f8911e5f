import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { unsafeJson } from '../../src/protocol/index.js'

/** Reference: nesting depth of objects and arrays (a primitive is 0, `[]` is 1). */
function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0
  const children = Array.isArray(value) ? value : Object.values(value)
  return 1 + Math.max(0, ...children.map(depthOf))
}

function hasNonFinite(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isFinite(value)
  if (typeof value !== 'object' || value === null) return false
  return (Array.isArray(value) ? value : Object.values(value)).some(hasNonFinite)
}

const nested = (depth: number, leaf: unknown): unknown => {
  let value = leaf
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { k: value }
  return value
}

const withNonFinite = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(Number.POSITIVE_INFINITY, Number.NaN, 1, 'x', null, true),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 3 }), tie('value'), { maxKeys: 3 }),
  ),
})).value

describe('unsafeJson', () => {
  it('is true exactly when a value nests deeper than the limit or holds a non-finite number', () => {
    fc.assert(
      fc.property(withNonFinite, fc.integer({ min: 1, max: 8 }), (value, maxDepth) => {
        expect(unsafeJson(value, maxDepth)).toBe(depthOf(value) > maxDepth || hasNonFinite(value))
      }),
      { numRuns: 2000 },
    )
  })

  it('agrees with the reference on both sides of the recursion limit (256)', () => {
    for (const maxDepth of [255, 256, 257, 400]) {
      for (const depth of [maxDepth - 1, maxDepth, maxDepth + 1]) {
        expect(unsafeJson(nested(depth, 1), maxDepth)).toBe(depth > maxDepth)
        expect(unsafeJson(nested(depth, Number.NEGATIVE_INFINITY), maxDepth)).toBe(true)
      }
    }
  })

  it('checks a hostile 200,000-deep value without overflowing the stack, at any limit', () => {
    const deep = nested(200_000, 0)
    expect(unsafeJson(deep, 64)).toBe(true)
    expect(unsafeJson(deep, 300_000)).toBe(false)
  })
})
