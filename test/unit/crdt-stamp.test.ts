import { describe, expect, it } from 'vitest'
import { compareStamps } from '../../src/crdt/index.js'

describe('compareStamps', () => {
  it('orders by ms first', () => {
    expect(compareStamps({ ms: 1, counter: 9, node: 'z' }, { ms: 2, counter: 0, node: 'a' })).toBe(-1)
    expect(compareStamps({ ms: 2, counter: 0, node: 'a' }, { ms: 1, counter: 9, node: 'z' })).toBe(1)
  })

  it('then by counter', () => {
    expect(compareStamps({ ms: 5, counter: 1, node: 'z' }, { ms: 5, counter: 2, node: 'a' })).toBe(-1)
    expect(compareStamps({ ms: 5, counter: 3, node: 'a' }, { ms: 5, counter: 2, node: 'z' })).toBe(1)
  })

  it('then by node id in UTF-16 order (so "n-10" < "n-9")', () => {
    expect(compareStamps({ ms: 5, counter: 1, node: 'n-10' }, { ms: 5, counter: 1, node: 'n-9' })).toBe(-1)
    expect(compareStamps({ ms: 5, counter: 1, node: 'b' }, { ms: 5, counter: 1, node: 'a' })).toBe(1)
  })

  it('is 0 only for equal stamps', () => {
    expect(compareStamps({ ms: 5, counter: 1, node: 'a' }, { ms: 5, counter: 1, node: 'a' })).toBe(0)
  })
})
