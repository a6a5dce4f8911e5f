import { describe, expect, it } from 'vitest'
import { encodeFrame } from '../../src/protocol/index.js'
import { EngineHarness } from '../helpers/engine-harness.js'

describe('engine: subscribe and sync_response', () => {
  it('anonymous SDK subscribe gets sync_response with a non-empty clock and no id needed', () => {
    const h = new EngineHarness()
    h.open('c1')
    h.send('c1', 'subscribe', { documentId: 'todo-1' })
    const [response] = h.ofType('c1', 'sync_response')
    expect(response).toMatchObject({ documentId: 'todo-1', state: {}, deltas: [] })
    expect(Object.keys(response?.clock ?? {}).length).toBeGreaterThan(0)
    expect(response?.requestId).toBeTruthy()
  })

  it('legacy sync_request answers with requestId = request id and auto-subscribes', () => {
    const h = new EngineHarness()
    h.open('c1')
    h.open('c2')
    h.send('c1', 'auth', { id: 'a1' })
    expect(h.ofType('c1', 'auth_success')[0]).toMatchObject({ userId: 'anonymous' })
    h.send('c1', 'sync_request', { id: 'req-7', documentId: 'doc' })
    expect(h.ofType('c1', 'sync_response')[0]).toMatchObject({ requestId: 'req-7', documentId: 'doc' })
    h.send('c2', 'delta', { id: 'd1', documentId: 'doc', delta: { title: 'hello' }, vectorClock: {} })
    const echo = h.ofType('c1', 'delta')
    expect(echo).toHaveLength(1)
    expect(echo[0]).toMatchObject({ documentId: 'doc', field: 'title', value: 'hello', clientId: 'server' })
  })
})

describe('engine: writes', () => {
  it('echoes to every subscriber including the sender and acks messageId after persistence', () => {
    const h = new EngineHarness()
    h.open('a')
    h.open('b')
    h.send('a', 'subscribe', { documentId: 'doc' })
    h.send('b', 'subscribe', { documentId: 'doc' })
    h.take('a')
    h.take('b')
    h.send('a', 'delta', {
      documentId: 'doc',
      type: 'set',
      field: 'x',
      value: 1,
      clock: { 'client-a': 57 },
      clientId: 'client-a',
      messageId: 'msg-1',
    })
    const a = h.take('a')
    const b = h.take('b')
    expect(a.map((m) => m.type)).toEqual(['delta', 'ack'])
    expect(a[1]).toMatchObject({ messageId: 'msg-1' })
    expect(b.map((m) => m.type)).toEqual(['delta'])
    const echo = b[0]
    if (echo?.type !== 'delta') throw new Error('expected delta')
    // The echo clock must reach the writer's own counter (SDK 0.1.1's local LWW, docs/protocol.md §6.4, §10.2).
    expect(Math.max(...Object.values(echo.clock))).toBeGreaterThanOrEqual(57)
    expect(h.store.get('doc')?.registers.map((r) => r.field)).toEqual(['x'])
  })

  it('keeps tombstones: a delete is echoed as __deleted and excluded from state', () => {
    const h = new EngineHarness()
    h.open('a')
    h.send('a', 'sync_request', { id: 'r', documentId: 'doc' })
    h.send('a', 'delta', { id: 'd1', documentId: 'doc', delta: { f: 'v', n: null }, vectorClock: {} })
    h.send('a', 'delta', { id: 'd2', documentId: 'doc', delta: { f: { __deleted: true } }, vectorClock: {} })
    const echoes = h.ofType('a', 'delta')
    expect(echoes.at(-1)).toMatchObject({ field: 'f', value: { __deleted: true } })
    h.send('a', 'sync_request', { id: 'r2', documentId: 'doc' })
    expect(h.ofType('a', 'sync_response').at(-1)?.state).toEqual({ n: null })
  })

  it('coalesces several writes to one field in a turn into one echo', () => {
    const h = new EngineHarness({ autoSettle: true })
    h.open('a')
    h.send('a', 'subscribe', { documentId: 'doc' })
    h.take('a')
    for (let i = 0; i < 5; i++) {
      h.engine.receive(
        'a',
        encodeFrame('delta', { documentId: 'doc', field: 'f', value: i, messageId: `m${i}` }, 0, 'binary'),
        h.now,
      )
    }
    h.flush()
    const received = h.take('a')
    expect(received.filter((m) => m.type === 'delta')).toHaveLength(1)
    expect(received.find((m) => m.type === 'delta')).toMatchObject({ value: 4 })
    expect(received.filter((m) => m.type === 'ack')).toHaveLength(5)
  })

  it('sync_request with a vector clock returns exactly the missed registers', () => {
    const h = new EngineHarness()
    h.open('a')
    h.send('a', 'sync_request', { id: 'r', documentId: 'doc' })
    h.send('a', 'delta', { id: 'd1', documentId: 'doc', delta: { a: 1, b: 2 }, vectorClock: {} })
    const clock = h.ofType('a', 'delta').at(-1)?.clock ?? {}
    h.send('a', 'delta', {
      id: 'd2',
      documentId: 'doc',
      delta: { b: { __deleted: true }, c: 3 },
      vectorClock: {},
    })
    h.send('a', 'sync_request', { id: 'r2', documentId: 'doc', vectorClock: clock })
    const response = h.ofType('a', 'sync_response').at(-1)
    const fields = (response?.deltas ?? []).map((d) => d.field).sort()
    expect(fields).toEqual(['b', 'c'])
    expect(response?.state).toEqual({ a: 1, c: 3 })
  })
})

describe('engine: wire format detection', () => {
  it('answers a JSON client in JSON and a binary client in binary', () => {
    const h = new EngineHarness()
    h.open('j')
    h.open('b')
    h.send('j', 'ping', { id: 'p' }, 'json')
    h.send('b', 'ping', {}, 'binary')
    expect(h.engine.wireFormat('j')).toBe('json')
    expect(h.engine.wireFormat('b')).toBe('binary')
    expect(h.ofType('j', 'pong')).toHaveLength(1)
    expect(h.ofType('b', 'pong')).toHaveLength(1)
  })
})

describe('engine: receiveMessage (decoded input)', () => {
  it('behaves like receive for a decoded frame', async () => {
    const { decodeClientFrame } = await import('../../src/protocol/index.js')
    const h = new EngineHarness()
    h.open('a')
    const decoded = decodeClientFrame(encodeFrame('subscribe', { documentId: 'doc' }, 1, 'binary'))
    if (!decoded.ok) throw new Error('expected a valid frame')
    for (const effect of h.engine.receiveMessage('a', decoded.message, h.now, decoded.bytes)) {
      if (effect.kind === 'load')
        h.resolve({ kind: 'loaded', snapshot: { documentId: 'doc', registers: [], clock: {} } })
    }
    h.flush()
    expect(h.engine.documentInfo('doc')?.subscribers).toBe(1)
    expect(h.engine.inboundCounters().messages.subscribe).toBe(1)
  })
})
