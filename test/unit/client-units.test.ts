import { describe, expect, it } from 'vitest'
import { reconnectDelay } from '../../src/client/backoff.js'
import { FrameBuilder, type WriteSpec } from '../../src/client/frames.js'
import { jsonEqual, mergeClock, TOMBSTONE } from '../../src/client/json.js'
import { Replica } from '../../src/client/replica.js'
import type { JsonValue } from '../../src/protocol/types.js'

describe('reconnectDelay', () => {
  it('grows by the factor, is capped, and adds at most 10 % jitter', () => {
    const opts = { initialDelayMs: 100, maxDelayMs: 1000, factor: 2 }
    expect([1, 2, 3, 4, 5, 9].map((n) => reconnectDelay(n, opts, () => 0))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ])
    expect(reconnectDelay(1, opts, () => 0.999)).toBe(110)
    expect(reconnectDelay(9, opts, () => 0.999)).toBe(1100)
  })

  it('defaults to the SDK schedule (1 s x 1.5, max 30 s)', () => {
    expect(reconnectDelay(1, {}, () => 0)).toBe(1000)
    expect(reconnectDelay(2, {}, () => 0)).toBe(1500)
    expect(reconnectDelay(50, {}, () => 0)).toBe(30_000)
  })
})

describe('json helpers', () => {
  it('compares JSON structurally and merges clocks by max', () => {
    expect(jsonEqual({ a: [1, { b: null }] }, { a: [1, { b: null }] })).toBe(true)
    expect(jsonEqual({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true)
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined as unknown as null })).toBe(false)
    expect(jsonEqual([1], { 0: 1 })).toBe(false)
    const clock = { a: 1, b: 5 }
    mergeClock(clock, { a: 3, b: 2, c: 1, d: 'x', toString: 9 })
    expect(clock).toEqual({ a: 3, b: 5, c: 1, toString: 9 })
  })
})

describe('Replica', () => {
  it('shows pending writes over server state and rolls them back on failure', () => {
    const r = new Replica('doc')
    r.applySync({ a: 1, b: 2 }, { n: 1 }, [])
    expect(r.addPending('m1', new Map([['a', 10]]))).toEqual(['a'])
    expect(r.toJSON()).toEqual({ a: 10, b: 2 })
    expect(r.settle('m1', false)).toEqual(['a'])
    expect(r.toJSON()).toEqual({ a: 1, b: 2 })
  })

  it('promotes an acked write no echo covered, and defers to an echo that came first', () => {
    const r = new Replica('doc')
    r.addPending('m1', new Map([['a', 1]]))
    expect(r.settle('m1', true)).toEqual([])
    expect(r.toJSON()).toEqual({ a: 1 })
    // Echo (another writer won) arrives before our ack: the echo stands after the ack.
    r.addPending('m2', new Map([['a', 2]]))
    r.applyEcho('a', 3, { n: 2 })
    expect(r.get('a')).toBe(2)
    expect(r.settle('m2', true)).toEqual(['a'])
    expect(r.get('a')).toBe(3)
  })

  it('applies tombstones, replaces state on sync and applies sync deltas on top', () => {
    const r = new Replica('doc')
    r.applySync({ a: 1, b: 2 }, { n: 1 }, [])
    r.applyEcho('a', TOMBSTONE, { n: 2 })
    expect(r.toJSON()).toEqual({ b: 2 })
    const changed = r.applySync({ c: 3 }, { n: 5, m: 1 }, [
      { field: 'd', value: 4, clock: { n: 4 } },
      { field: 'c', value: { __deleted: true }, deleted: true, clock: { x: 7 } },
    ])
    expect(r.toJSON()).toEqual({ d: 4 })
    expect(changed.sort()).toEqual(['b', 'd'])
    expect(r.clock).toEqual({ n: 5, m: 1, x: 7 })
    expect(r.synced).toBe(true)
  })

  it('reports writes fully matched by echoes of their own values', () => {
    const r = new Replica('doc')
    r.addPending(
      'm1',
      new Map<string, JsonValue>([
        ['a', { x: [1] }],
        ['b', null],
      ]),
    )
    expect(r.applyEcho('a', { x: [1] }, undefined).matched).toEqual([])
    expect(r.applyEcho('b', 'other', undefined).matched).toEqual([])
    expect(r.applyEcho('b', null, undefined).matched).toEqual(['m1'])
  })

  it('op clocks bump the own counter past anything seen for this client', () => {
    const r = new Replica('doc')
    r.applySync({}, { me: 7, srv: 3 }, [])
    expect(r.nextOpClock('me')).toEqual({ me: 8, srv: 3 })
    expect(r.nextOpClock('me')).toEqual({ me: 9, srv: 3 })
  })

  it('keeps a "__proto__" field as data', () => {
    const r = new Replica('doc')
    r.applySync(JSON.parse('{"__proto__": {"polluted": true}}'), {}, [])
    const view = r.toJSON()
    expect(Object.getPrototypeOf(view)).toBe(Object.prototype)
    expect(Object.keys(view)).toEqual(['__proto__'])
  })
})

describe('FrameBuilder', () => {
  const spec: WriteSpec = {
    messageId: 'msg-1',
    documentId: 'doc',
    fields: new Map<string, JsonValue>([
      ['a', 1],
      ['b', TOMBSTONE],
    ]),
    clocks: [{ c: 1 }, { c: 2 }],
    timestamp: 42,
  }

  it('sdk: no ids, delta_batch set ops', () => {
    const f = new FrameBuilder('sdk', 'c', () => 'id-1')
    expect(f.auth('t', undefined)).toEqual({ type: 'auth', fields: { token: 't', apiKey: undefined } })
    expect(f.subscribe('doc', 'r')).toEqual({ type: 'subscribe', fields: { documentId: 'doc' } })
    expect(f.resync('doc', 'r', { n: 1 })).toEqual({
      type: 'sync_request',
      fields: { documentId: 'doc', vectorClock: { n: 1 } },
    })
    expect(f.write(spec)).toEqual({
      type: 'delta_batch',
      fields: {
        documentId: 'doc',
        messageId: 'msg-1',
        deltas: [
          { type: 'set', field: 'a', value: 1, clock: { c: 1 }, clientId: 'c', timestamp: 42 },
          {
            type: 'set',
            field: 'b',
            value: { __deleted: true },
            clock: { c: 2 },
            clientId: 'c',
            timestamp: 42,
          },
        ],
      },
    })
    expect(f.ping()).toEqual({ type: 'ping', fields: {} })
  })

  it('legacy: ids everywhere, delta maps with an empty vectorClock', () => {
    const f = new FrameBuilder('legacy', 'c', () => 'id-1')
    expect(f.auth(undefined, undefined).fields).toEqual({ id: 'id-1', token: undefined, apiKey: undefined })
    expect(f.subscribe('doc', 'r')).toEqual({ type: 'sync_request', fields: { id: 'r', documentId: 'doc' } })
    expect(f.resync('doc', 'r2', { n: 1 })).toEqual({
      type: 'sync_request',
      fields: { id: 'r2', documentId: 'doc' },
    })
    expect(f.write(spec)).toEqual({
      type: 'delta',
      fields: { id: 'msg-1', documentId: 'doc', delta: { a: 1, b: { __deleted: true } }, vectorClock: {} },
    })
    expect(f.ack('d1')).toEqual({ type: 'ack', fields: { id: 'id-1', messageId: 'd1' } })
    expect(f.pong()).toEqual({ type: 'pong', fields: { id: 'id-1' } })
  })
})
