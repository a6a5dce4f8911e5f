import { describe, expect, it } from 'vitest'
import { LwwDocument, type Register, type Stamp } from '../../src/crdt/index.js'

const st = (ms: number, node = 'srv', counter = 0): Stamp => ({ ms, counter, node })
const set = (field: string, value: Register['value'], stamp: Stamp, minSeq?: number) =>
  minSeq === undefined
    ? { field, value, deleted: false, stamp }
    : { field, value, deleted: false, stamp, minSeq }
const del = (field: string, stamp: Stamp) => ({ field, value: null, deleted: true, stamp })
const remote = (
  field: string,
  value: Register['value'],
  ms: number,
  node: string,
  seq: number,
): Register => ({
  field,
  value,
  deleted: false,
  stamp: st(ms, node),
  dot: { node, seq },
})

describe('LwwDocument.localWrite', () => {
  it('assigns consecutive dots and advances the clock', () => {
    const doc = new LwwDocument('d')
    const a = doc.localWrite(set('a', 1, st(1)))
    const b = doc.localWrite(set('b', 2, st(2)))
    expect(a).toEqual({ applied: true, register: { ...set('a', 1, st(1)), dot: { node: 'srv', seq: 1 } } })
    expect(b.register.dot).toEqual({ node: 'srv', seq: 2 })
    expect(doc.clock()).toEqual({ srv: 2 })
    expect(doc.clockMax()).toBe(2)
    expect(doc.state()).toEqual({ a: 1, b: 2 })
  })

  it('lifts the seq to minSeq, never lowers it', () => {
    const doc = new LwwDocument('d')
    expect(doc.localWrite(set('a', 1, st(1), 40)).register.dot.seq).toBe(40)
    expect(doc.localWrite(set('a', 2, st(2))).register.dot.seq).toBe(41)
    expect(doc.localWrite(set('a', 3, st(3), 5)).register.dot.seq).toBe(42)
    expect(doc.localWrite(set('a', 4, st(4), Number.NaN)).register.dot.seq).toBe(43)
    expect(doc.clock()).toEqual({ srv: 43 })
    expect(doc.clockMax()).toBe(43)
  })

  it('keeps the winner when the write has an older stamp, but still advances the clock', () => {
    const doc = new LwwDocument('d')
    doc.localWrite(set('a', 'new', st(10)))
    const stale = doc.localWrite(set('a', 'old', st(5)))
    expect(stale.applied).toBe(false)
    expect(stale.register.dot.seq).toBe(2)
    expect(doc.get('a')?.value).toBe('new')
    expect(doc.clock()).toEqual({ srv: 2 })
  })

  it('a delete followed by a stale write cannot resurrect the field', () => {
    const doc = new LwwDocument('d')
    doc.localWrite(set('a', 'v', st(1)))
    expect(doc.localWrite(del('a', st(10))).applied).toBe(true)
    expect(doc.applyRemote(remote('a', 'zombie', 9, 'other', 1))).toBe(false)
    expect(doc.localWrite(set('a', 'zombie', st(9, 'srv'))).applied).toBe(false)
    expect(doc.state()).toEqual({})
    expect(doc.get('a')).toMatchObject({ deleted: true, value: null })
    expect(doc.size).toBe(1)
    expect(doc.liveFieldCount).toBe(0)
    // A genuinely newer write does bring it back.
    expect(doc.localWrite(set('a', 'again', st(11))).applied).toBe(true)
    expect(doc.state()).toEqual({ a: 'again' })
  })

  it('stores tombstones with value null whatever value was passed', () => {
    const doc = new LwwDocument('d')
    const r = doc.localWrite({ field: 'a', value: 'ignored', deleted: true, stamp: st(1) })
    expect(r.register.value).toBeNull()
    expect(doc.get('a')?.value).toBeNull()
  })

  it('keeps null as a live value, distinct from a delete', () => {
    const doc = new LwwDocument('d')
    doc.localWrite(set('n', null, st(1)))
    doc.localWrite(set('gone', 1, st(2)))
    doc.localWrite(del('gone', st(3)))
    expect(doc.state()).toEqual({ n: null })
    expect(Object.hasOwn(doc.state(), 'n')).toBe(true)
    expect(Object.hasOwn(doc.state(), 'gone')).toBe(false)
    expect(doc.liveFieldCount).toBe(1)
    expect(doc.size).toBe(2)
  })
})

describe('LwwDocument.applyRemote', () => {
  it('returns true only when the register becomes the winner', () => {
    const doc = new LwwDocument('d')
    const r = remote('a', 1, 5, 'n2', 1)
    expect(doc.applyRemote(r)).toBe(true)
    expect(doc.applyRemote(r)).toBe(false)
    expect(doc.applyRemote(structuredClone(r))).toBe(false)
    expect(doc.applyRemote(remote('a', 0, 4, 'n3', 1))).toBe(false)
    expect(doc.applyRemote(remote('a', 2, 6, 'n3', 2))).toBe(true)
    expect(doc.state()).toEqual({ a: 2 })
    expect(doc.clock()).toEqual({ n2: 1, n3: 2 })
  })

  it('copies registers so later caller mutation does not leak in', () => {
    const doc = new LwwDocument('d')
    const r = remote('a', 1, 5, 'n2', 1)
    doc.applyRemote(r)
    r.stamp.ms = 0
    r.dot.seq = 99
    expect(doc.get('a')?.stamp.ms).toBe(5)
    expect(doc.get('a')?.dot.seq).toBe(1)
  })

  it('updates liveFieldCount across live/tombstone transitions', () => {
    const doc = new LwwDocument('d')
    doc.applyRemote(remote('a', 1, 1, 'n', 1))
    doc.applyRemote(remote('b', 1, 2, 'n', 2))
    expect(doc.liveFieldCount).toBe(2)
    doc.applyRemote({ ...remote('a', null, 3, 'n', 3), deleted: true })
    expect(doc.liveFieldCount).toBe(1)
    doc.applyRemote({ ...remote('a', null, 4, 'n', 4), deleted: true })
    expect(doc.liveFieldCount).toBe(1)
    doc.applyRemote(remote('a', 'back', 5, 'n', 5))
    expect(doc.liveFieldCount).toBe(2)
    expect(doc.size).toBe(2)
  })
})

describe('LwwDocument snapshot / constructor', () => {
  it('round-trips registers, tombstones and clock', () => {
    const doc = new LwwDocument('d')
    doc.localWrite(set('a', { x: [1] }, st(1)))
    doc.localWrite(del('b', st(2)))
    doc.applyRemote(remote('c', 'r', 3, 'n2', 7))
    const snap = doc.snapshot()
    const copy = new LwwDocument('d', snap)
    expect(copy.snapshot()).toEqual(snap)
    expect(copy.state()).toEqual({ a: { x: [1] }, c: 'r' })
    expect(copy.liveFieldCount).toBe(2)
    expect(copy.clockMax()).toBe(7)
  })

  it('takes the clock as the max of snapshot.clock and every register dot', () => {
    const doc = new LwwDocument('d', {
      documentId: 'd',
      clock: { a: 5, b: 1 },
      registers: [remote('x', 1, 1, 'a', 3), remote('y', 2, 2, 'b', 9), remote('z', 3, 3, 'c', 2)],
    })
    expect(doc.clock()).toEqual({ a: 5, b: 9, c: 2 })
    expect(doc.localWrite(set('w', 0, st(4, 'b'))).register.dot.seq).toBe(10)
  })

  it('resolves duplicate fields in a snapshot by LWW', () => {
    const doc = new LwwDocument('d', {
      documentId: 'd',
      clock: {},
      registers: [remote('x', 'new', 9, 'a', 2), remote('x', 'old', 1, 'a', 1)],
    })
    expect(doc.state()).toEqual({ x: 'new' })
    expect(doc.size).toBe(1)
  })

  it('returns copies from snapshot() and clock()', () => {
    const doc = new LwwDocument('d')
    doc.localWrite(set('a', 1, st(1)))
    const snap = doc.snapshot()
    snap.clock.srv = 100
    snap.registers[0]!.stamp.ms = 100
    snap.registers.pop()
    const clock = doc.clock()
    clock.srv = 50
    expect(doc.clock()).toEqual({ srv: 1 })
    expect(doc.get('a')?.stamp.ms).toBe(1)
    expect(doc.snapshot().registers).toHaveLength(1)
  })
})

describe('LwwDocument.missing', () => {
  it('returns exactly the registers whose dot is unseen, tombstones included', () => {
    const doc = new LwwDocument('d')
    doc.localWrite(set('a', 1, st(1))) // srv:1
    doc.localWrite(set('b', 2, st(2))) // srv:2
    doc.localWrite(del('b', st(3))) // srv:3, tombstone replaces b
    doc.applyRemote(remote('c', 3, 4, 'n2', 1))
    const fields = (rs: Register[]) => rs.map((r) => r.field).sort()
    expect(fields(doc.missing({}))).toEqual(['a', 'b', 'c'])
    expect(fields(doc.missing({ srv: 1 }))).toEqual(['b', 'c'])
    expect(fields(doc.missing({ srv: 2 }))).toEqual(['b', 'c'])
    expect(fields(doc.missing({ srv: 3 }))).toEqual(['c'])
    expect(fields(doc.missing({ srv: 3, n2: 1 }))).toEqual([])
    expect(doc.missing({ srv: 2 }).find((r) => r.field === 'b')).toMatchObject({ deleted: true, value: null })
  })

  it('is not fooled by inherited keys in the since clock', () => {
    const doc = new LwwDocument('d')
    doc.applyRemote(remote('a', 1, 1, 'toString', 1))
    doc.applyRemote(remote('b', 1, 1, '__proto__', 1))
    expect(doc.missing({}).map((r) => r.field)).toEqual(['a', 'b'])
    expect(doc.missing(JSON.parse('{"__proto__": 1, "toString": 1}'))).toEqual([])
  })
})

describe('LwwDocument __proto__ safety', () => {
  it('state() exposes a __proto__ field as an own property without touching prototypes', () => {
    const doc = new LwwDocument('d')
    doc.localWrite(set('__proto__', { polluted: true }, st(1, '__proto__')))
    doc.localWrite(set('constructor', 'c', st(2)))
    const state = doc.state()
    expect(Object.hasOwn(state, '__proto__')).toBe(true)
    expect(Object.getPrototypeOf(state)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(state, '__proto__')?.value).toEqual({ polluted: true })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(JSON.parse(JSON.stringify(state))).toEqual(
      JSON.parse('{"__proto__":{"polluted":true},"constructor":"c"}'),
    )
    const clock = doc.clock()
    expect(Object.hasOwn(clock, '__proto__')).toBe(true)
    expect(Object.getPrototypeOf(clock)).toBe(Object.prototype)
    expect(new LwwDocument('d', doc.snapshot()).state()).toEqual(state)
  })
})

describe('LwwDocument.advanceClock', () => {
  it('lifts one entry without a write and never lowers it', () => {
    const doc = new LwwDocument('d')
    doc.advanceClock('n', 5)
    expect(doc.clock()).toEqual({ n: 5 })
    expect(doc.clockMax()).toBe(5)
    doc.advanceClock('n', 3)
    expect(doc.clock()).toEqual({ n: 5 })
    const { register } = doc.localWrite({
      field: 'f',
      value: 1,
      deleted: false,
      stamp: { ms: 1, counter: 0, node: 'n' },
    })
    expect(register.dot).toEqual({ node: 'n', seq: 6 })
    expect(doc.missing({ n: 5 }).map((r) => r.field)).toEqual(['f'])
  })
})
