import { describe, expect, it } from 'vitest'
import { AwarenessDocument } from '../../src/crdt/index.js'

describe('AwarenessDocument.apply', () => {
  it('accepts a new client and later updates with a greater clock', () => {
    const aw = new AwarenessDocument()
    expect(aw.apply('c1', { name: 'a' }, 1, 100)).toBe('updated')
    expect(aw.get('c1')).toEqual({ clientId: 'c1', state: { name: 'a' }, clock: 1, updatedAt: 100 })
    expect(aw.apply('c1', { name: 'b' }, 2, 200)).toBe('updated')
    expect(aw.get('c1')).toEqual({ clientId: 'c1', state: { name: 'b' }, clock: 2, updatedAt: 200 })
    expect(aw.size).toBe(1)
  })

  it('rejects updates whose clock is not greater (stale)', () => {
    const aw = new AwarenessDocument()
    aw.apply('c1', { v: 5 }, 5, 100)
    expect(aw.apply('c1', { v: 4 }, 4, 200)).toBe('stale')
    expect(aw.apply('c1', { v: 5 }, 5, 200)).toBe('stale')
    expect(aw.apply('c1', { v: 0 }, Number.NaN, 200)).toBe('stale')
    expect(aw.get('c1')).toEqual({ clientId: 'c1', state: { v: 5 }, clock: 5, updatedAt: 100 })
  })

  it('refuses a NaN clock for a new client', () => {
    const aw = new AwarenessDocument()
    expect(aw.apply('c1', {}, Number.NaN, 1)).toBe('stale')
    expect(aw.size).toBe(0)
  })

  it('leave is accepted at clock >= stored and removes the entry', () => {
    const aw = new AwarenessDocument()
    aw.apply('c1', {}, 5, 100)
    expect(aw.apply('c1', null, 4, 200)).toBe('stale')
    expect(aw.size).toBe(1)
    expect(aw.apply('c1', null, 5, 200)).toBe('left')
    expect(aw.get('c1')).toBeUndefined()
    expect(aw.size).toBe(0)
  })

  it('leave of an unknown client is accepted', () => {
    const aw = new AwarenessDocument()
    expect(aw.apply('ghost', null, 3, 1)).toBe('left')
    expect(aw.apply('ghost', {}, 3, 2)).toBe('stale')
  })

  it('a reordered older update cannot resurrect a client that left', () => {
    const aw = new AwarenessDocument()
    aw.apply('c1', { v: 1 }, 1, 100)
    expect(aw.apply('c1', null, 3, 110)).toBe('left')
    expect(aw.apply('c1', { v: 2 }, 2, 120)).toBe('stale')
    expect(aw.apply('c1', { v: 3 }, 3, 120)).toBe('stale')
    expect(aw.size).toBe(0)
    // A genuinely newer update rejoins.
    expect(aw.apply('c1', { v: 4 }, 4, 130)).toBe('updated')
    expect(aw.get('c1')?.clock).toBe(4)
  })

  it('an older leave does not lower a remembered leave clock', () => {
    const aw = new AwarenessDocument()
    aw.apply('c1', null, 10, 1)
    aw.apply('c1', null, 2, 2)
    expect(aw.apply('c1', {}, 5, 3)).toBe('stale')
    expect(aw.apply('c1', {}, 11, 3)).toBe('updated')
  })

  it('refuses new clients beyond maxClients but still updates existing ones', () => {
    const aw = new AwarenessDocument({ maxClients: 2 })
    expect(aw.apply('a', {}, 1, 0)).toBe('updated')
    expect(aw.apply('b', {}, 1, 0)).toBe('updated')
    expect(aw.apply('c', {}, 1, 0)).toBe('full')
    expect(aw.apply('a', { x: 1 }, 2, 0)).toBe('updated')
    expect(aw.size).toBe(2)
    aw.apply('a', null, 2, 0)
    expect(aw.apply('c', {}, 1, 0)).toBe('updated')
  })

  it('remembers a bounded number of leaves (LRU)', () => {
    const aw = new AwarenessDocument({ maxLeftRemembered: 2 })
    aw.apply('a', null, 5, 0)
    aw.apply('b', null, 5, 0)
    aw.apply('a', null, 6, 0) // refresh a: b is now the oldest
    aw.apply('c', null, 5, 0) // evicts b
    expect(aw.apply('a', {}, 6, 0)).toBe('stale')
    expect(aw.apply('c', {}, 5, 0)).toBe('stale')
    expect(aw.apply('b', {}, 1, 0)).toBe('updated') // forgotten: accepted
  })

  it('with maxLeftRemembered 0 leaves are not remembered', () => {
    const aw = new AwarenessDocument({ maxLeftRemembered: 0 })
    aw.apply('a', {}, 5, 0)
    aw.apply('a', null, 5, 0)
    expect(aw.apply('a', {}, 1, 0)).toBe('updated')
  })

  it('keeps a __proto__ client id as an ordinary entry', () => {
    const aw = new AwarenessDocument()
    expect(aw.apply('__proto__', { x: 1 }, 1, 0)).toBe('updated')
    expect(aw.get('__proto__')?.state).toEqual({ x: 1 })
    expect(aw.entries().map((e) => e.clientId)).toEqual(['__proto__'])
  })
})

describe('AwarenessDocument.remove', () => {
  it('removes the entry and remembers its clock as the leave clock', () => {
    const aw = new AwarenessDocument()
    aw.apply('c1', { v: 1 }, 7, 100)
    expect(aw.remove('c1')).toEqual({ clientId: 'c1', state: { v: 1 }, clock: 7, updatedAt: 100 })
    expect(aw.remove('c1')).toBeUndefined()
    expect(aw.apply('c1', { v: 1 }, 7, 200)).toBe('stale')
    expect(aw.apply('c1', { v: 2 }, 8, 200)).toBe('updated')
  })
})

describe('AwarenessDocument.expire', () => {
  it('removes exactly the entries with updatedAt + timeout <= now', () => {
    const aw = new AwarenessDocument()
    aw.apply('old', {}, 1, 0)
    aw.apply('edge', {}, 1, 10)
    aw.apply('fresh', {}, 1, 11)
    const expired = aw.expire(40, 30)
    expect(expired.map((e) => e.clientId).sort()).toEqual(['edge', 'old'])
    expect(aw.entries().map((e) => e.clientId)).toEqual(['fresh'])
    expect(aw.expire(40, 30)).toEqual([])
  })

  it('an expired client cannot be resurrected by a delayed update at the same clock', () => {
    const aw = new AwarenessDocument()
    aw.apply('c1', { v: 1 }, 3, 0)
    aw.expire(100, 30)
    expect(aw.apply('c1', { v: 1 }, 3, 101)).toBe('stale')
    expect(aw.apply('c1', { v: 2 }, 4, 101)).toBe('updated')
  })

  it('re-sending state refreshes updatedAt', () => {
    const aw = new AwarenessDocument()
    aw.apply('c1', {}, 1, 0)
    aw.apply('c1', {}, 2, 25)
    expect(aw.expire(40, 30)).toEqual([])
    expect(aw.size).toBe(1)
  })
})

describe('AwarenessDocument.entries', () => {
  it('returns a fresh array of current entries', () => {
    const aw = new AwarenessDocument()
    aw.apply('a', { n: 1 }, 1, 0)
    aw.apply('b', { n: 2 }, 1, 0)
    const list = aw.entries()
    list.pop()
    expect(aw.entries()).toHaveLength(2)
    expect(aw.entries().map((e) => e.state)).toEqual([{ n: 1 }, { n: 2 }])
  })
})
