import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SyncServerError } from '../../src/client/index.js'
import type { ChangeEvent, DeltaEvent } from '../../src/client/types.js'
import { encodeFrame } from '../../src/protocol/index.js'
import type { ServerMessage } from '../../src/protocol/types.js'
import { ClientFixture } from '../helpers/client-setup.js'
import type { FakeSyncServer, ReceivedFrame } from '../helpers/fake-sync-server.js'
import { sleep, waitFor, within } from '../helpers/wait-for.js'

interface Op {
  field: string
  value: unknown
  clock: Record<string, number>
  timestamp: number
}
const opsOf = (frame: ReceivedFrame | undefined): Op[] => (frame?.fields.deltas ?? []) as Op[]

let fx: ClientFixture
let server: FakeSyncServer
beforeEach(async () => {
  fx = new ClientFixture()
  server = await fx.server()
})
afterEach(() => fx.teardown())

describe('client, sdk dialect: handshake', () => {
  it('resolves connect() on open without sending anything when it has no credentials', async () => {
    const client = fx.client(server)
    const opened: unknown[] = []
    client.on('open', (event) => opened.push(event))
    expect(client.connected).toBe(false)
    await within(client.connect(), 2000, 'connect')
    expect(client.connected).toBe(true)
    expect(opened).toEqual([{ reconnected: false }])
    await sleep(30)
    expect(server.frames).toEqual([])
  })

  it('with a token sends auth {token} (no id) and waits for auth_success', async () => {
    server.auto.auth = false
    const client = fx.client(server, { token: 'jwt-1' })
    let ready = false
    const connecting = client.connect().then(() => {
      ready = true
    })
    const [auth] = await server.waitForFrame('auth')
    expect(auth?.fields).toEqual({ token: 'jwt-1' })
    expect(auth?.format).toBe('binary')
    expect(Math.abs((auth?.timestamp ?? 0) - Date.now())).toBeLessThan(5000)
    await sleep(30)
    expect(ready).toBe(false)
    server.send(server.last, 'auth_success', { userId: 'u1' })
    await within(connecting, 2000, 'connect')
    expect(client.connected).toBe(true)
  })

  it('rejects connect() on auth_error and does not reconnect', async () => {
    server.auto.auth = false
    const client = fx.client(server, { apiKey: 'k' })
    const connecting = client.connect()
    const [auth] = await server.waitForFrame('auth')
    expect(auth?.fields).toEqual({ apiKey: 'k' })
    server.send(server.last, 'auth_error', { error: 'Authentication failed' })
    const error = await within(connecting, 2000, 'connect').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SyncServerError)
    expect((error as Error).message).toBe('Authentication failed')
    await sleep(100)
    expect(server.sockets).toHaveLength(1)
  })

  it('rejects connect() when nothing listens, and times out a silent handshake', async () => {
    const port = server.port
    await server.close()
    const refused = fx.client(server, { reconnect: false })
    await expect(within(refused.connect(), 3000, 'connect')).rejects.toThrow(`ws://127.0.0.1:${port}/ws`)
    const silent = await fx.server()
    silent.auto.auth = false
    const slow = fx.client(silent, { token: 't', requestTimeoutMs: 150 })
    await expect(within(slow.connect(), 2000, 'connect')).rejects.toThrow(/Timed out connecting to ws:/)
  })
})

describe('client, sdk dialect: documents', () => {
  it('subscribe sends exactly {documentId} and adopts sync_response state and clock', async () => {
    server.doc('doc-1').set('title', 'hello')
    const client = fx.client(server)
    await client.connect()
    const replica = await within(client.subscribe('doc-1'), 2000, 'subscribe')
    const [sub] = server.framesOf('subscribe')
    expect(sub?.fields).toEqual({ documentId: 'doc-1' })
    expect(replica.documentId).toBe('doc-1')
    expect(replica.synced).toBe(true)
    expect(replica.toJSON()).toEqual({ title: 'hello' })
    expect(replica.clock).toEqual({ 'fake-node': 0 })
    expect(client.get('doc-1')).toEqual({ title: 'hello' })
    // A second subscribe to a synced document answers locally.
    expect(await client.subscribe('doc-1')).toBe(replica)
    expect(server.framesOf('subscribe')).toHaveLength(1)
    expect(client.get('unknown')).toBeUndefined()
  })

  it('set sends a delta_batch set op with messageId, merged clock, clientId and timestamp; resolves on ack', async () => {
    const client = fx.client(server, { clientId: 'client-a' })
    await client.connect()
    await client.subscribe('doc')
    const before = Date.now()
    await within(client.set('doc', 'color', 'red'), 2000, 'set')
    const [batch] = server.framesOf('delta_batch')
    expect(batch?.fields).toEqual({
      documentId: 'doc',
      messageId: expect.stringMatching(/^msg-[a-z0-9]+-[a-z0-9]+$/),
      deltas: [
        {
          type: 'set',
          field: 'color',
          value: 'red',
          clock: { 'fake-node': 0, 'client-a': 1 },
          clientId: 'client-a',
          timestamp: expect.any(Number),
        },
      ],
    })
    const op = opsOf(batch)[0]
    expect(op?.timestamp).toBeGreaterThanOrEqual(before)
    expect(client.get('doc')).toEqual({ color: 'red' })
    await client.set('doc', 'color', 'blue')
    const second = server.framesOf('delta_batch')[1]
    expect(second?.fields.messageId).not.toBe(batch?.fields.messageId)
    const clock = opsOf(second)[0]?.clock
    expect(clock?.['client-a']).toBe(2)
  })

  it('setMany sends one batch with one op per field; delete sends the tombstone', async () => {
    const client = fx.client(server, { clientId: 'c' })
    await client.connect()
    await client.subscribe('doc')
    await client.setMany('doc', { a: 1, b: [true, null], c: { nested: 'x' } })
    const [batch] = server.framesOf('delta_batch')
    const ops = batch?.fields.deltas as Array<{
      field: string
      value: unknown
      clock: Record<string, number>
    }>
    expect(ops.map((op) => [op.field, op.value, op.clock.c])).toEqual([
      ['a', 1, 1],
      ['b', [true, null], 2],
      ['c', { nested: 'x' }, 3],
    ])
    await client.delete('doc', 'b')
    const del = server.framesOf('delta_batch')[1]
    expect(opsOf(del)[0]).toMatchObject({
      type: 'set',
      field: 'b',
      value: { __deleted: true },
    })
    expect(client.get('doc')).toEqual({ a: 1, c: { nested: 'x' } })
    await client.setMany('doc', {})
    expect(server.framesOf('delta_batch')).toHaveLength(2)
  })

  it('adopts every server echo, emitting delta and change events', async () => {
    const client = fx.client(server)
    await client.connect()
    await client.subscribe('doc')
    const deltas: DeltaEvent[] = []
    const changes: ChangeEvent[] = []
    client.on('delta', (e) => deltas.push(e))
    client.on('change', (e) => changes.push(e))
    server.send(server.last, 'delta', {
      documentId: 'doc',
      field: 'x',
      value: 5,
      clock: { n: 3, other: 9 },
      clientId: 'server',
    })
    await waitFor(() => client.get('doc')?.x === 5)
    server.send(server.last, 'delta', {
      documentId: 'doc',
      field: 'x',
      value: { __deleted: true },
      clock: { n: 4 },
      clientId: 'server',
    })
    await waitFor(() => deltas.length === 2)
    expect(client.get('doc')).toEqual({})
    expect(deltas[1]).toEqual({
      documentId: 'doc',
      field: 'x',
      value: undefined,
      deleted: true,
      clock: { n: 4 },
    })
    expect(changes).toEqual([
      { documentId: 'doc', fields: ['x'], origin: 'remote' },
      { documentId: 'doc', fields: ['x'], origin: 'remote' },
    ])
    const replica = await client.subscribe('doc')
    expect(replica.clock).toEqual({ 'fake-node': 0, n: 4, other: 9 })
  })

  it('an echo of another writer overrides a pending local value once the ack arrives', async () => {
    server.auto.echo = false
    server.auto.ack = false
    const client = fx.client(server)
    await client.connect()
    await client.subscribe('doc')
    const write = client.set('doc', 'f', 'mine')
    const [batch] = await server.waitForFrame('delta_batch')
    expect(client.get('doc')).toEqual({ f: 'mine' })
    server.send(server.last, 'delta', {
      documentId: 'doc',
      field: 'f',
      value: 'theirs',
      clock: { n: 2 },
      clientId: 'server',
    })
    await sleep(30)
    expect(client.get('doc')).toEqual({ f: 'mine' })
    server.send(server.last, 'ack', { messageId: batch?.fields.messageId })
    await within(write, 2000, 'set')
    expect(client.get('doc')).toEqual({ f: 'theirs' })
  })

  it('answers a server ping with pong {}, and ping() measures a round trip', async () => {
    const client = fx.client(server)
    await client.connect()
    server.send(server.last, 'ping', {})
    const [pong] = await server.waitForFrame('pong')
    expect(pong?.fields).toEqual({})
    const rtt = await within(client.ping(), 2000, 'ping')
    expect(rtt).toBeGreaterThanOrEqual(0)
    expect(rtt).toBeLessThan(2000)
    expect(server.framesOf('ping')[0]?.fields).toEqual({})
  })

  it('emits delta_batch relays (and every other message) as "message"', async () => {
    const client = fx.client(server)
    await client.connect()
    const messages: ServerMessage[] = []
    client.on('message', (m) => messages.push(m))
    const op = { type: 'counter', operation: 'increment', value: 2, clientId: 'peer' }
    server.send(server.last, 'delta_batch', { documentId: 'doc', deltas: [op], isTextOperation: false })
    await waitFor(() => messages.length === 1)
    expect(messages[0]).toMatchObject({ type: 'delta_batch', documentId: 'doc', deltas: [op] })
  })

  it('never throws on bad frames: emits error and keeps working', async () => {
    const client = fx.client(server)
    await client.connect()
    await client.subscribe('doc')
    server.sendRaw(server.last, new Uint8Array([0x20, 0, 1]))
    server.sendRaw(server.last, 'not json')
    server.sendRaw(server.last, encodeFrame('delta', { documentId: 'doc', field: 'x' }, 0, 'binary'))
    server.sendRaw(server.last, new Uint8Array([0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 123, 125]))
    await waitFor(() => fx.errors.length === 4)
    expect(fx.errors.every((e) => e.message.startsWith('Invalid server frame'))).toBe(true)
    await within(client.set('doc', 'ok', true), 2000, 'set')
    expect(client.get('doc')).toEqual({ ok: true })
  })

  it('surfaces server errors; one naming a messageId rejects that write and rolls it back', async () => {
    server.auto.ack = false
    server.auto.echo = false
    const client = fx.client(server)
    await client.connect()
    await client.subscribe('doc')
    const write = client.set('doc', 'f', 1)
    const [batch] = await server.waitForFrame('delta_batch')
    server.send(server.last, 'error', {
      error: 'Write not persisted: disk full',
      details: { code: 'PERSIST_FAILED', documentId: 'doc', messageId: batch?.fields.messageId },
    })
    const error = await within(write, 2000, 'set').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SyncServerError)
    expect(error).toMatchObject({ message: 'Write not persisted: disk full', code: 'PERSIST_FAILED' })
    expect(client.get('doc')).toEqual({})
    expect(fx.errors.at(-1)).toBe(error)
  })

  it('a document-level refusal rejects the subscribe in flight', async () => {
    server.auto.sync = false
    const client = fx.client(server)
    await client.connect()
    const sub = client.subscribe('secret')
    await server.waitForFrame('subscribe')
    server.send(server.last, 'error', {
      error: 'Permission denied',
      details: { code: 'PERMISSION_DENIED', documentId: 'secret' },
    })
    await expect(within(sub, 2000, 'subscribe')).rejects.toThrow('Permission denied')
  })

  it('json format sends text frames of the same shapes', async () => {
    const client = fx.client(server, { format: 'json' })
    await client.connect()
    await client.subscribe('doc')
    await client.set('doc', 'a', 1)
    expect(server.frames.map((f) => [f.type, f.format])).toEqual([
      ['subscribe', 'json'],
      ['delta_batch', 'json'],
    ])
  })
})

describe('client, sdk dialect: timeouts and bounds', () => {
  it('rejects subscribe, writes and pings that get no answer within requestTimeoutMs', async () => {
    server.auto = { auth: true, sync: false, ack: false, echo: false, pong: false }
    const client = fx.client(server, { requestTimeoutMs: 150 })
    await client.connect()
    const started = Date.now()
    await expect(within(client.subscribe('doc'), 2000, 'subscribe')).rejects.toThrow(
      'No sync_response for "doc" within 150 ms (1 attempt(s))',
    )
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
    const changes: ChangeEvent[] = []
    client.on('change', (e) => changes.push(e))
    await expect(within(client.set('doc', 'a', 1), 2000, 'set')).rejects.toThrow(
      /^Write msg-\S+ to "doc" not acknowledged within 150 ms$/,
    )
    expect(client.get('doc')).toEqual({})
    expect(changes.map((c) => c.origin)).toEqual(['local', 'rollback'])
    await expect(within(client.ping(), 2000, 'ping')).rejects.toThrow('No pong within 150 ms')
  })

  it('bounds the outgoing queue: writes beyond maxQueuedWrites reject at once', async () => {
    const client = fx.client(server, { maxQueuedWrites: 3 })
    const queued = [client.set('d', 'a', 1), client.set('d', 'b', 2), client.set('d', 'c', 3)]
    await expect(client.set('d', 'e', 4)).rejects.toThrow('Outgoing queue is full (3 unacknowledged writes)')
    expect(client.get('d')).toEqual({ a: 1, b: 2, c: 3 })
    await client.connect()
    await within(Promise.all(queued), 2000, 'queued writes')
    expect(server.framesOf('delta_batch').map((f) => Object.keys(f.fields))).toHaveLength(3)
    await within(client.set('d', 'e', 4), 2000, 'set')
  })

  it('close() rejects everything pending and later calls', async () => {
    server.auto.sync = false
    const client = fx.client(server)
    await client.connect()
    const sub = client.subscribe('doc')
    client.disconnect()
    const offline = client.set('doc', 'a', 1)
    client.close()
    await expect(sub).rejects.toThrow('Client closed')
    await expect(offline).rejects.toThrow('Client closed')
    await expect(client.connect()).rejects.toThrow('Client is closed')
    await expect(client.ping()).rejects.toThrow('Not connected')
  })
})

describe('client, sdk dialect: awareness', () => {
  it('subscribes, publishes own state with increasing clocks, applies peers and leaves', async () => {
    const client = fx.client(server, { clientId: 'me' })
    await client.connect()
    const presence = client.awareness('room')
    presence.set({ cursor: 1 })
    presence.set({ cursor: 2 })
    await server.waitForFrame('awareness_update', 2)
    expect(server.framesOf('awareness_subscribe').map((f) => f.fields)).toEqual([{ documentId: 'room' }])
    expect(server.framesOf('awareness_update').map((f) => f.fields)).toEqual([
      { documentId: 'room', clientId: 'me', state: { cursor: 1 }, clock: 1 },
      { documentId: 'room', clientId: 'me', state: { cursor: 2 }, clock: 2 },
    ])
    const events: unknown[] = []
    client.on('awareness', (e) => events.push(e))
    server.send(server.last, 'awareness_state', {
      documentId: 'room',
      states: [
        { clientId: 'peer', state: { name: 'p' }, clock: 4 },
        { clientId: 'me', state: { stale: true }, clock: 1 },
      ],
    })
    server.send(server.last, 'awareness_update', {
      documentId: 'room',
      clientId: 'peer',
      state: { old: 1 },
      clock: 3,
    })
    server.send(server.last, 'awareness_update', {
      documentId: 'room',
      clientId: 'p2',
      state: { n: 1 },
      clock: 1,
    })
    await waitFor(() => events.length === 2)
    expect([...presence.states()]).toEqual([
      ['me', { state: { cursor: 2 }, clock: 2 }],
      ['peer', { state: { name: 'p' }, clock: 4 }],
      ['p2', { state: { n: 1 }, clock: 1 }],
    ])
    server.send(server.last, 'awareness_update', {
      documentId: 'room',
      clientId: 'peer',
      state: null,
      clock: 1,
    })
    await waitFor(() => events.length === 3)
    expect([...presence.states().keys()]).toEqual(['me', 'p2'])
    client.disconnect()
    await server.waitForFrame('awareness_update', 3)
    expect(server.framesOf('awareness_update')[2]?.fields).toEqual({
      documentId: 'room',
      clientId: 'me',
      state: null,
      clock: 3,
    })
  })

  it('re-sends own state periodically so the server does not expire it', async () => {
    const client = fx.client(server, { clientId: 'me', awarenessRefreshMs: 40 })
    await client.connect()
    client.awareness('room').set({ here: true })
    const frames = await server.waitForFrame('awareness_update', 3, 2000)
    expect(frames.map((f) => f.fields.clock)).toEqual([1, 2, 3])
    expect(frames.every((f) => JSON.stringify(f.fields.state) === '{"here":true}')).toBe(true)
  })
})
