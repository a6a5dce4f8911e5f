import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isJsonData } from '../../adapters/cloudflare/json-data.js'

/**
 * The rule for a connection context kept through hibernation: a socket attachment is a
 * structured clone, a state too large for one is a JSON row, and both must give the context back
 * as it was. `isJsonData` accepts exactly what survives both.
 */

/** Anything: Dates, Maps, Sets, class-less and boxed values, sparse arrays (cycles aside). */
const anything = fc.anything({
  values: [
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    // -0 comes back from JSON as 0, a difference no context cares about.
    fc.double().filter((n) => !Object.is(n, -0)),
    fc.bigInt(),
  ],
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withSparseArray: true,
  withTypedArray: true,
  maxDepth: 4,
})

describe('isJsonData', () => {
  it('accepts every JSON value', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => isJsonData(value)))
  })

  it('accepts only what comes back equal from a JSON row and from a structured clone', () => {
    fc.assert(
      fc.property(anything, (value) => {
        if (!isJsonData(value)) return
        expect(JSON.parse(JSON.stringify(value))).toEqual(value)
        expect(structuredClone(value)).toEqual(value)
      }),
    )
  })

  it('refuses what would come back different, or not at all', () => {
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    class Session {
      userId = 'alice'
    }
    const refused = [
      new Date(0),
      { at: new Date(0) },
      new Map([['a', 1]]),
      [1, undefined],
      // biome-ignore lint/suspicious/noSparseArray: the hole is the point
      [1, , 2],
      Number.NaN,
      { n: Number.POSITIVE_INFINITY },
      10n,
      () => 1,
      { toJSON: () => 'x' },
      new Session(),
      { [Symbol('s')]: 1 },
      cycle,
      undefined,
    ]
    for (const value of refused) expect(isJsonData(value), String(value)).toBe(false)
    let deep: unknown = 'leaf'
    for (let i = 0; i < 40; i++) deep = { deep }
    expect(isJsonData(deep)).toBe(false)
    expect(isJsonData({ userId: 'alice', team: 'team-1', roles: ['a'], n: 1.5, ok: true, none: null })).toBe(
      true,
    )
    expect(isJsonData({ optional: undefined })).toBe(true)
  })
})
