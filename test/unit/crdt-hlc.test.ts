import { describe, expect, it } from 'vitest'
import { compareStamps, HybridLogicalClock } from '../../src/crdt/index.js'

describe('HybridLogicalClock', () => {
  it('follows wall time when it moves forward', () => {
    const hlc = new HybridLogicalClock('n1')
    expect(hlc.now(1000)).toEqual({ ms: 1000, counter: 0, node: 'n1' })
    expect(hlc.now(1005)).toEqual({ ms: 1005, counter: 0, node: 'n1' })
  })

  it('bumps the counter within the same millisecond', () => {
    const hlc = new HybridLogicalClock('n1')
    expect(hlc.now(1000)).toEqual({ ms: 1000, counter: 0, node: 'n1' })
    expect(hlc.now(1000)).toEqual({ ms: 1000, counter: 1, node: 'n1' })
    expect(hlc.now(1000)).toEqual({ ms: 1000, counter: 2, node: 'n1' })
  })

  it('stays monotonic when the wall clock goes backwards', () => {
    const hlc = new HybridLogicalClock('n1')
    const a = hlc.now(5000)
    const b = hlc.now(1000)
    const c = hlc.now(4999)
    expect(b).toEqual({ ms: 5000, counter: 1, node: 'n1' })
    expect(compareStamps(b, a)).toBe(1)
    expect(compareStamps(c, b)).toBe(1)
    expect(hlc.now(6000)).toEqual({ ms: 6000, counter: 0, node: 'n1' })
  })

  it('treats non-finite wall time as last.ms', () => {
    const hlc = new HybridLogicalClock('n1')
    hlc.now(100)
    expect(hlc.now(Number.NaN)).toEqual({ ms: 100, counter: 1, node: 'n1' })
    expect(hlc.now(Number.POSITIVE_INFINITY)).toEqual({ ms: 100, counter: 2, node: 'n1' })
    expect(hlc.now(Number.NEGATIVE_INFINITY)).toEqual({ ms: 100, counter: 3, node: 'n1' })
    expect(hlc.last).toEqual({ ms: 100, counter: 3 })
  })

  it('issues stamps above observed remote stamps, even with a greater node id', () => {
    const hlc = new HybridLogicalClock('a')
    hlc.now(100)
    const remote = { ms: 200, counter: 7, node: 'zzz' }
    hlc.observe(remote)
    const next = hlc.now(150)
    expect(next).toEqual({ ms: 200, counter: 8, node: 'a' })
    expect(compareStamps(next, remote)).toBe(1)
  })

  it('ignores observed stamps that are older or non-finite', () => {
    const hlc = new HybridLogicalClock('a')
    hlc.now(500)
    hlc.observe({ ms: 100, counter: 99, node: 'b' })
    hlc.observe({ ms: Number.NaN, counter: 0, node: 'b' })
    hlc.observe({ ms: Number.POSITIVE_INFINITY, counter: 0, node: 'b' })
    expect(hlc.last).toEqual({ ms: 500, counter: 0 })
  })

  it('resumes from a persisted last time without reissuing stamps', () => {
    const first = new HybridLogicalClock('n1')
    first.now(1000)
    const issued = first.now(1000)
    const resumed = new HybridLogicalClock('n1', first.last)
    expect(compareStamps(resumed.now(900), issued)).toBe(1)
    expect(new HybridLogicalClock('n1', { ms: Number.NaN, counter: 3 }).last).toEqual({ ms: 0, counter: 3 })
  })

  it('returns a copy from last', () => {
    const hlc = new HybridLogicalClock('n1')
    hlc.now(10)
    const last = hlc.last
    last.ms = 99_999
    expect(hlc.last.ms).toBe(10)
  })
})
