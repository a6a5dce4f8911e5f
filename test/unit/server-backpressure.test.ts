import { afterEach, describe, expect, it } from 'vitest'
import { createSyncServer, type SyncServer, type SyncServerOptions } from '../../src/server/index.js'
import { Outbound } from '../../src/server/outbound.js'
import { FakeSocket, frame, turns, waitFor } from './server-fakes.js'

const LIMITS = { highWaterMark: 100, hardLimit: 1_000, maxQueuedMessages: 50, maxReplyBytes: 5_000 }

describe('Outbound queue', () => {
  it('sends directly until the socket reports backpressure, then queues', () => {
    const socket = new FakeSocket()
    const out = new Outbound(socket, LIMITS)
    expect(out.send('a', 1)).toBe('sent')
    socket.stalled = true
    expect(out.send('b', 1)).toBe('sent') // accepted, but -1: the next ones queue
    expect(out.send('c', 1)).toBe('queued')
    expect(socket.frames).toEqual(['a', 'b'])
    expect(out.queuedMessages).toBe(1)
  })

  it('queues while the transport buffer is above the high-water mark', () => {
    const socket = new FakeSocket()
    socket.buffered = 101
    const out = new Outbound(socket, LIMITS)
    expect(out.send('a', 1)).toBe('queued')
    expect(socket.frames).toEqual([])
  })

  it('coalesces field echoes to the latest, moved behind everything queued before it', () => {
    const socket = new FakeSocket()
    socket.stalled = true
    const out = new Outbound(socket, LIMITS)
    out.send('first', 1)
    out.send('x=1', 3, 'd\u0000x')
    out.send('sync_response', 13)
    out.send('y=1', 3, 'd\u0000y')
    expect(out.send('x=2', 3, 'd\u0000x')).toBe('coalesced')
    expect(out.queuedMessages).toBe(3)
    expect(out.queuedBytes).toBe(19)
    socket.stalled = false
    expect(out.drain()).toBe(19)
    expect(socket.frames).toEqual(['first', 'sync_response', 'y=1', 'x=2'])
    expect(out.pressured).toBe(false)
  })

  it('drains only while the socket accepts, keeping order', () => {
    const socket = new FakeSocket()
    socket.stalled = true
    const out = new Outbound(socket, LIMITS)
    out.send('0', 1)
    for (const item of ['1', '2', '3']) out.send(item, 1)
    expect(out.drain()).toBe(1) // '1' accepted with -1: stop
    expect(out.queuedMessages).toBe(2)
    socket.stalled = false
    out.drain()
    expect(socket.frames).toEqual(['0', '1', '2', '3'])
    expect(out.queuedMessages).toBe(0)
  })

  it('reports overflow past the hard byte limit or the message cap', () => {
    const socket = new FakeSocket()
    socket.stalled = true
    const bytes = new Outbound(socket, LIMITS)
    bytes.send('x', 1)
    expect(bytes.send('big', 600)).toBe('queued')
    expect(bytes.send('big', 600)).toBe('overflow')

    const stalled = new FakeSocket()
    stalled.stalled = true
    const many = new Outbound(stalled, LIMITS)
    many.send('first', 1)
    const outcomes = Array.from({ length: 60 }, (_, i) => many.send(`m${i}`, 1))
    expect(outcomes.indexOf('overflow')).toBe(50)
  })

  it('counts the transport buffer against the hard limit', () => {
    const socket = new FakeSocket()
    socket.buffered = 990
    const out = new Outbound(socket, LIMITS)
    expect(out.send('a', 5)).toBe('queued')
    expect(out.send('b', 10)).toBe('overflow')
  })
})

describe('Outbound replies (the initial sync of a document the client asked for)', () => {
  it('lets a reply larger than the hard limit out, with its re-sent fields queued behind it', () => {
    const socket = new FakeSocket()
    const out = new Outbound(socket, LIMITS)
    expect(out.send('sync_response', 1_500, undefined, true)).toBe('sent')
    socket.buffered = 1_500 // nothing drained yet
    for (let i = 0; i < 20; i++) expect(out.send(`f${i}`, 100, `d\u0000f${i}`, true)).toBe('queued')
    // The same bytes as broadcasts are over the hard limit.
    const broadcasts = new Outbound(new FakeSocket(), LIMITS)
    expect(broadcasts.send('sync_response', 1_500)).toBe('sent')
    const stalled = new FakeSocket()
    stalled.buffered = 1_500
    const queued = new Outbound(stalled, LIMITS)
    expect(queued.send('big', 1_500)).toBe('overflow')
  })

  it('still bounds broadcasts queued behind a reply by the hard limit', () => {
    const socket = new FakeSocket()
    const out = new Outbound(socket, LIMITS)
    out.send('sync_response', 1_500, undefined, true)
    socket.buffered = 1_500
    expect(out.send('echo', 600)).toBe('queued')
    expect(out.send('echo', 600)).toBe('overflow')
  })

  it('closes past maxReplyBytes: asking again and again without reading is bounded', () => {
    const socket = new FakeSocket()
    socket.buffered = 101
    const out = new Outbound(socket, LIMITS)
    const outcomes = Array.from({ length: 6 }, () => out.send('sync_response', 1_000, undefined, true))
    expect(outcomes).toEqual(['queued', 'queued', 'queued', 'queued', 'queued', 'overflow'])
  })

  it('does not count replies against maxQueuedMessages', () => {
    const socket = new FakeSocket()
    socket.buffered = 101
    const out = new Outbound(socket, LIMITS)
    const outcomes = Array.from({ length: 200 }, (_, i) => out.send(`f${i}`, 10, `d\u0000f${i}`, true))
    expect(outcomes.every((o) => o === 'queued')).toBe(true)
    expect(out.queuedMessages).toBe(200)
  })

  it('tells replies from broadcasts in the transport buffer by write order', () => {
    // A broadcast, then a reply, both written: 2,000 bytes, then `buffered` of them still held.
    const written = (buffered: number): Outbound => {
      const socket = new FakeSocket()
      const out = new Outbound(socket, LIMITS)
      expect(out.send('echo', 500)).toBe('sent')
      expect(out.send('sync_response', 1_500, undefined, true)).toBe('sent')
      socket.buffered = buffered
      return out
    }
    // 300 bytes left, all of them the broadcast's: 200 broadcast bytes remain, and a queued
    // 900-byte broadcast makes 1,100, over the hard limit.
    expect(written(1_700).send('late', 900)).toBe('overflow')
    // 1,000 bytes left: the broadcast and a third of the reply. No broadcast bytes remain.
    expect(written(1_000).send('late', 900)).toBe('queued')
  })

  it('forgets replies the transport already sent: a socket that keeps up tracks none', () => {
    const socket = new FakeSocket()
    const out = new Outbound(socket, LIMITS)
    for (let i = 0; i < 10_000; i++) out.send(`f${i}`, 10, `d\u0000f${i}`, true)
    expect(out.trackedReplies).toBeLessThanOrEqual(1)
    socket.buffered = 60 // the last six replies (60 bytes) still in the buffer
    out.send('one more', 10, undefined, true)
    expect(out.trackedReplies).toBeLessThanOrEqual(7)
  })

  it('frees the reply budget as the transport drains the reply', () => {
    const socket = new FakeSocket()
    const out = new Outbound(socket, { ...LIMITS, maxReplyBytes: 2_000 })
    out.send('sync_response', 1_500, undefined, true)
    socket.buffered = 1_500
    expect(out.send('again', 1_000, undefined, true)).toBe('overflow')
    const drained = new FakeSocket()
    const later = new Outbound(drained, { ...LIMITS, maxReplyBytes: 2_000 })
    later.send('sync_response', 1_500, undefined, true)
    drained.buffered = 400 // 1,100 of the reply left
    expect(later.send('again', 1_000, undefined, true)).toBe('queued') // 400 + 1,000 <= 2,000
    drained.buffered = 0
    expect(later.drain()).toBe(1_000)
    expect(later.pressured).toBe(false)
  })
})

describe('backpressure through the runtime', () => {
  const servers: SyncServer[] = []
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()))
  })
  function server(options: SyncServerOptions = {}): SyncServer {
    const created = createSyncServer({
      auth: { required: false },
      resendFieldsOnSubscribe: false,
      maxMessagesPerMinute: 1_000_000,
      ...options,
    })
    servers.push(created)
    return created
  }

  async function subscribed(sync: SyncServer, socket: FakeSocket) {
    const handle = sync.handleConnection(socket, {
      remoteAddress: `10.0.0.${Math.floor(Math.random() * 200)}`,
    })
    handle.receive(frame('subscribe', { documentId: 'doc' }))
    await waitFor(() => socket.ofType('sync_response').length === 1)
    return handle
  }

  it('keeps a stalled reader bounded while a writer hammers a few fields', async () => {
    const sync = server({ backpressure: { highWaterMark: 1_000, hardLimit: 64_000 } })
    const reader = new FakeSocket()
    const readerHandle = await subscribed(sync, reader)
    reader.stalled = true // every send now answers -1 and nothing drains
    const writer = sync.handleConnection(new FakeSocket(), { remoteAddress: '10.1.0.1' })
    for (let turn = 0; turn < 200; turn++) {
      for (let i = 0; i < 5; i++)
        writer.receive(frame('delta', { documentId: 'doc', delta: { [`f${i}`]: turn } }))
      await turns(1)
    }
    await turns()
    const stats = sync.stats()
    expect(reader.closedWith).toBeUndefined()
    expect(stats.queuedMessages).toBeLessThanOrEqual(5)
    // Once the reader drains, it receives exactly the latest value of each field.
    reader.stalled = false
    const before = reader.frames.length
    readerHandle.drained()
    const latest = reader
      .messages()
      .slice(before)
      .filter((m) => m.type === 'delta')
    expect(latest.map((m) => (m.type === 'delta' ? [m.field, m.value] : [])).sort()).toEqual(
      [0, 1, 2, 3, 4].map((i) => [`f${i}`, 199]),
    )
    expect(sync.stats().queuedMessages).toBe(0)
  })

  it('closes a stalled reader with 1013 once distinct updates exceed the hard limit', async () => {
    const sync = server({ backpressure: { highWaterMark: 1_000, hardLimit: 20_000 } })
    const reader = new FakeSocket()
    await subscribed(sync, reader)
    reader.stalled = true
    const closes: (number | undefined)[] = []
    sync.on('disconnect', (e) => closes.push(e.code))
    const writer = sync.handleConnection(new FakeSocket(), { remoteAddress: '10.1.0.2' })
    let maxQueued = 0
    for (let i = 0; i < 2_000 && !reader.closedWith; i++) {
      writer.receive(frame('delta', { documentId: 'doc', delta: { [`field-${i}`]: 'x'.repeat(100) } }))
      if (i % 10 === 0) await turns(1)
      maxQueued = Math.max(maxQueued, sync.stats().queuedBytes)
    }
    await turns()
    expect(reader.closedWith).toEqual({ code: 1013, reason: 'Client too slow; reconnect to resync' })
    expect(maxQueued).toBeLessThanOrEqual(20_000)
    expect(closes).toContain(1013)
    expect(sync.stats().queuedMessages).toBe(0)
    expect(sync.metrics()).toMatch(/synckit_backpressure_closed_total 1/)
  })

  it('tells the engine of a slow reader closed mid-batch only after the batch, so effects stay in order', async () => {
    const sync = server({ backpressure: { highWaterMark: 1_000, hardLimit: 20_000 } })
    const slow = new FakeSocket()
    const slowHandle = await subscribed(sync, slow)
    const watcher = new FakeSocket()
    await subscribed(sync, watcher)
    // The slow reader is present: its close makes it leave, broadcast to the watcher.
    slowHandle.receive(
      frame('awareness_update', { documentId: 'doc', clientId: 'slow', state: {}, clock: 1 }),
    )
    await waitFor(() => watcher.ofType('awareness_update').length === 1)
    const writer = sync.handleConnection(new FakeSocket(), { remoteAddress: '10.1.0.4' })
    writer.receive(frame('subscribe', { documentId: 'doc' }))
    await turns()
    slow.buffered = 1_000_000 // over the hard limit: the first echo of the next turn closes it
    const before = watcher.frames.length
    writer.receive(frame('delta', { documentId: 'doc', delta: { a: 1, b: 2 } }))
    await waitFor(() => slow.closedWith !== undefined)
    await turns()
    // One flush sent both echoes; the leave the close causes comes after them, not between.
    const after = watcher
      .messages()
      .slice(before)
      .map((m) =>
        m.type === 'delta'
          ? `delta ${m.field}`
          : m.type === 'awareness_update'
            ? `leave ${m.clientId}`
            : m.type,
      )
    expect(after).toEqual(['delta a', 'delta b', 'leave slow'])
    expect(slow.closedWith).toEqual({ code: 1013, reason: 'Client too slow; reconnect to resync' })
  })

  it('drains queued messages on tick when the transport never signals', async () => {
    const sync = server({ tickIntervalMs: 20, backpressure: { highWaterMark: 1_000 } })
    const reader = new FakeSocket()
    await subscribed(sync, reader)
    reader.buffered = 5_000 // above the high-water mark: everything queues
    const writer = sync.handleConnection(new FakeSocket(), { remoteAddress: '10.1.0.3' })
    writer.receive(frame('delta', { documentId: 'doc', delta: { a: 1 } }))
    writer.receive(frame('delta', { documentId: 'doc', delta: { b: 2 } }))
    await turns()
    expect(reader.ofType('delta')).toHaveLength(0)
    expect(sync.stats().queuedMessages).toBe(2)
    reader.buffered = 0
    await waitFor(() => reader.ofType('delta').length === 2, 1_000, 'tick drain')
    expect(reader.ofType('delta').map((m) => m.field)).toEqual(['a', 'b'])
  })
})
