import { describe, expect, it } from 'vitest'
import { mergeRegisters, type Register, registerWins } from '../../src/crdt/index.js'

const reg = (over: Partial<Register> & { ms: number; counter?: number; node?: string }): Register => {
  const { ms, counter = 0, node = 'n1', ...rest } = over
  return {
    field: 'f',
    value: 'v',
    deleted: false,
    stamp: { ms, counter, node },
    dot: { node, seq: 1 },
    ...rest,
  }
}

describe('registerWins', () => {
  it('wins against nothing', () => {
    expect(registerWins(reg({ ms: 0 }), undefined)).toBe(true)
  })

  it('wins iff its stamp is greater', () => {
    expect(registerWins(reg({ ms: 2 }), reg({ ms: 1 }))).toBe(true)
    expect(registerWins(reg({ ms: 1 }), reg({ ms: 2 }))).toBe(false)
    expect(registerWins(reg({ ms: 1, counter: 1 }), reg({ ms: 1, counter: 0 }))).toBe(true)
    expect(registerWins(reg({ ms: 1, node: 'b' }), reg({ ms: 1, node: 'a' }))).toBe(true)
  })

  it('a stale write loses against a newer tombstone', () => {
    const tomb = reg({ ms: 10, deleted: true, value: null })
    expect(registerWins(reg({ ms: 9, value: 'old' }), tomb)).toBe(false)
  })

  it('is idempotent: an identical register never wins', () => {
    const r = reg({ ms: 5, value: { a: [1, 2] } })
    expect(registerWins(r, r)).toBe(false)
    expect(registerWins(structuredClone(r), r)).toBe(false)
  })

  it('breaks equal-stamp ties deterministically: tombstone, then JSON text, then dot', () => {
    const live = reg({ ms: 5, value: 'x' })
    const tomb = reg({ ms: 5, deleted: true, value: null })
    expect(registerWins(tomb, live)).toBe(true)
    expect(registerWins(live, tomb)).toBe(false)

    const a = reg({ ms: 5, value: 'a' })
    const b = reg({ ms: 5, value: 'b' })
    expect(registerWins(b, a)).toBe(true)
    expect(registerWins(a, b)).toBe(false)

    const d1 = reg({ ms: 5, dot: { node: 'n1', seq: 1 } })
    const d2 = reg({ ms: 5, dot: { node: 'n1', seq: 2 } })
    expect(registerWins(d2, d1)).toBe(true)
    expect(registerWins(d1, d2)).toBe(false)
  })

  it('treats null as a value distinct from a delete', () => {
    const nul = reg({ ms: 5, value: null })
    const tomb = reg({ ms: 5, value: null, deleted: true })
    expect(registerWins(tomb, nul)).toBe(true)
    expect(registerWins(nul, tomb)).toBe(false)
  })
})

describe('mergeRegisters', () => {
  it('returns the winner in either order', () => {
    const a = reg({ ms: 1, value: 'a' })
    const b = reg({ ms: 2, value: 'b' })
    expect(mergeRegisters(a, b)).toBe(b)
    expect(mergeRegisters(b, a)).toBe(b)
    expect(mergeRegisters(undefined, a)).toBe(a)
    expect(mergeRegisters(a, a)).toBe(a)
  })
})
