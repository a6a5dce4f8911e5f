import { describe, expect, it } from 'vitest'
import {
  clockMax,
  compareClocks,
  concurrent,
  dotSeen,
  happenedBefore,
  mergeClockInto,
  mergeClocks,
  type VectorClock,
} from '../../src/crdt/index.js'

/** A clock with an own `__proto__` entry, as JSON.parse produces it. */
const protoClock = (seq: number): VectorClock => JSON.parse(`{"__proto__": ${seq}, "a": 1}`)

describe('mergeClocks', () => {
  it('takes the pointwise max, missing = 0, into a new object', () => {
    const a = { x: 1, y: 5 }
    const b = { y: 3, z: 2 }
    const m = mergeClocks(a, b)
    expect(m).toEqual({ x: 1, y: 5, z: 2 })
    expect(m).not.toBe(a)
    expect(a).toEqual({ x: 1, y: 5 })
    expect(b).toEqual({ y: 3, z: 2 })
  })

  it('keeps a __proto__ key as an own entry and leaves prototypes alone', () => {
    const m = mergeClocks(protoClock(4), protoClock(7))
    expect(Object.hasOwn(m, '__proto__')).toBe(true)
    expect(Object.getPrototypeOf(m)).toBe(Object.prototype)
    expect(Object.entries(m)).toEqual(expect.arrayContaining([['__proto__', 7]]))
    expect(({} as Record<string, unknown>).a).toBeUndefined()
  })

  it('does not read inherited members as entries', () => {
    expect(mergeClocks({}, { toString: 3 })).toEqual({ toString: 3 })
    expect(compareClocks({ constructor: 1 }, {})).toBe('after')
  })
})

describe('mergeClockInto', () => {
  it('mutates the target and reports whether it changed', () => {
    const t: VectorClock = { a: 2 }
    expect(mergeClockInto(t, { a: 1 })).toBe(false)
    expect(t).toEqual({ a: 2 })
    expect(mergeClockInto(t, { a: 3, b: 1 })).toBe(true)
    expect(t).toEqual({ a: 3, b: 1 })
    expect(mergeClockInto(t, {})).toBe(false)
  })

  it('adds a __proto__ entry as an own property', () => {
    const t: VectorClock = {}
    expect(mergeClockInto(t, protoClock(2))).toBe(true)
    expect(Object.hasOwn(t, '__proto__')).toBe(true)
    expect(Object.getPrototypeOf(t)).toBe(Object.prototype)
    expect(mergeClockInto(t, protoClock(1))).toBe(false)
    expect(mergeClockInto(t, protoClock(5))).toBe(true)
    expect(Object.getOwnPropertyDescriptor(t, '__proto__')?.value).toBe(5)
  })
})

describe('compareClocks / happenedBefore / concurrent', () => {
  it('classifies all four relations', () => {
    expect(compareClocks({ a: 1 }, { a: 1, b: 0 })).toBe('equal')
    expect(compareClocks({}, {})).toBe('equal')
    expect(compareClocks({ a: 1 }, { a: 2 })).toBe('before')
    expect(compareClocks({ a: 1 }, { a: 1, b: 1 })).toBe('before')
    expect(compareClocks({ a: 2, b: 1 }, { a: 1 })).toBe('after')
    expect(compareClocks({ a: 2 }, { b: 1 })).toBe('concurrent')
  })

  it('happenedBefore is ≤ everywhere and < somewhere', () => {
    expect(happenedBefore({ a: 1 }, { a: 1, b: 1 })).toBe(true)
    expect(happenedBefore({ a: 1 }, { a: 1 })).toBe(false)
    expect(happenedBefore({ a: 2 }, { a: 1, b: 5 })).toBe(false)
    expect(happenedBefore(protoClock(1), protoClock(2))).toBe(true)
  })

  it('concurrent means neither ordered nor equal', () => {
    expect(concurrent({ a: 2 }, { a: 1, b: 5 })).toBe(true)
    expect(concurrent({ a: 1 }, { a: 1 })).toBe(false)
    expect(concurrent({ a: 1 }, { a: 2 })).toBe(false)
  })
})

describe('clockMax / dotSeen', () => {
  it('clockMax is the largest entry, 0 for empty', () => {
    expect(clockMax({})).toBe(0)
    expect(clockMax({ a: 3, b: 9, c: 1 })).toBe(9)
    expect(clockMax(protoClock(42))).toBe(42)
  })

  it('dotSeen compares the node entry with the seq', () => {
    expect(dotSeen({ a: 3 }, { node: 'a', seq: 3 })).toBe(true)
    expect(dotSeen({ a: 3 }, { node: 'a', seq: 4 })).toBe(false)
    expect(dotSeen({}, { node: 'a', seq: 1 })).toBe(false)
    expect(dotSeen({}, { node: 'toString', seq: 1 })).toBe(false)
    expect(dotSeen({}, { node: '__proto__', seq: 1 })).toBe(false)
    expect(dotSeen(protoClock(2), { node: '__proto__', seq: 2 })).toBe(true)
  })
})
