import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ClientFixture } from '../helpers/client-setup.js'
import type { FakeSyncServer } from '../helpers/fake-sync-server.js'
import { sleep, waitFor, within } from '../helpers/wait-for.js'

let fx: ClientFixture
let server: FakeSyncServer
beforeEach(async () => {
  fx = new ClientFixture()
  server = await fx.server()
})
afterEach(() => fx.teardown())

const legacy = { dialect: 'legacy' } as const

describe('client, legacy dialect', () => {
  it('connect sends auth {id} without a token and resolves on auth_success only', async () => {
    server.auto.auth = false
    const client = fx.client(server, legacy)
    let ready = false
    const connecting = client.connect().then(() => {
      ready = true
    })
    const [auth] = await server.waitForFrame('auth')
    expect(auth?.fields).toEqual({ id: expect.stringMatching(/^req-/) })
    await sleep(30)
    expect(ready).toBe(false)
    server.send(server.last, 'auth_success', { userId: 'anonymous-127.0.0.1' })
    await within(connecting, 2000, 'connect')
  })

  it('times out when auth_success never comes', async () => {
    server.auto.auth = false
    const client = fx.client(server, { ...legacy, requestTimeoutMs: 120 })
    await expect(within(client.connect(), 2000, 'connect')).rejects.toThrow('Timed out connecting')
  })

  it('subscribes with sync_request {id, documentId} and matches the response by requestId', async () => {
    server.auto.sync = false
    const client = fx.client(server, legacy)
    await client.connect()
    let resolved = false
    const sub = client.subscribe('doc').then((r) => {
      resolved = true
      return r
    })
    const [req] = await server.waitForFrame('sync_request')
    expect(req?.fields).toEqual({ id: expect.stringMatching(/^req-/), documentId: 'doc' })
    // A response to another document does not settle it.
    server.send(server.last, 'sync_response', {
      requestId: 'other',
      documentId: 'x',
      state: {},
      clock: {},
      deltas: [],
    })
    await sleep(30)
    expect(resolved).toBe(false)
    server.send(server.last, 'sync_response', {
      requestId: req?.fields.id,
      documentId: 'doc',
      state: { a: 1, b: null },
      deltas: [],
    })
    const replica = await within(sub, 2000, 'subscribe')
    expect(replica.toJSON()).toEqual({ a: 1, b: null })
    expect(server.framesOf('subscribe')).toEqual([])
  })

  it('retries sync_request up to 3 times, 200 then 400 ms apart, then rejects', async () => {
    server.auto.sync = false
    const client = fx.client(server, { ...legacy, requestTimeoutMs: 100 })
    await client.connect()
    const started = Date.now()
    const sub = client.subscribe('doc')
    await expect(within(sub, 3000, 'subscribe')).rejects.toThrow(
      'No sync_response for "doc" within 100 ms (3 attempt(s))',
    )
    const elapsed = Date.now() - started
    const requests = server.framesOf('sync_request')
    expect(requests).toHaveLength(3)
    expect(new Set(requests.map((r) => r.fields.id)).size).toBe(3)
    // 3 x 100 ms timeouts + 200 + 400 ms backoff.
    expect(elapsed).toBeGreaterThanOrEqual(880)
    expect(elapsed).toBeLessThan(2500)
  })

  it('a retry that gets answered resolves the subscribe', async () => {
    server.auto.sync = false
    const client = fx.client(server, { ...legacy, requestTimeoutMs: 100 })
    await client.connect()
    const sub = client.subscribe('doc')
    const [, second] = await server.waitForFrame('sync_request', 2)
    server.send(server.last, 'sync_response', {
      requestId: second?.fields.id,
      documentId: 'doc',
      state: { v: 1 },
    })
    expect((await within(sub, 2000, 'subscribe')).toJSON()).toEqual({ v: 1 })
  })

  it('writes delta {id, documentId, delta, vectorClock: {}} and resolves on the ack', async () => {
    const client = fx.client(server, legacy)
    await client.connect()
    await client.subscribe('doc')
    await within(client.set('doc', 'f', 'v'), 2000, 'set')
    await within(client.delete('doc', 'f'), 2000, 'delete')
    await within(client.setMany('doc', { n: null, list: [1, 2] }), 2000, 'setMany')
    const deltas = server.framesOf('delta').map((f) => f.fields)
    expect(deltas).toEqual([
      { id: expect.stringMatching(/^msg-/), documentId: 'doc', delta: { f: 'v' }, vectorClock: {} },
      {
        id: expect.stringMatching(/^msg-/),
        documentId: 'doc',
        delta: { f: { __deleted: true } },
        vectorClock: {},
      },
      {
        id: expect.stringMatching(/^msg-/),
        documentId: 'doc',
        delta: { n: null, list: [1, 2] },
        vectorClock: {},
      },
    ])
    expect(client.get('doc')).toEqual({ n: null, list: [1, 2] })
  })

  it('without an ack, the echo of its own value confirms a write; another value does not', async () => {
    server.auto.ack = false
    server.auto.echo = false
    const client = fx.client(server, legacy)
    await client.connect()
    await client.subscribe('doc')
    let done = false
    const write = client.setMany('doc', { a: 1, b: { deep: [true] } }).then(() => {
      done = true
    })
    await server.waitForFrame('delta')
    const echo = (field: string, value: unknown) =>
      server.send(server.last, 'delta', {
        documentId: 'doc',
        field,
        value,
        clock: { n: 1 },
        clientId: 'server',
      })
    echo('a', 1)
    echo('b', 'someone else')
    await sleep(40)
    expect(done).toBe(false)
    echo('b', { deep: [true] })
    await within(write, 2000, 'write')
  })

  it('acks every received delta that has an id, and answers ping with pong {id}', async () => {
    const client = fx.client(server, legacy)
    await client.connect()
    await client.subscribe('doc')
    server.send(server.last, 'delta', {
      id: 'd-42',
      documentId: 'doc',
      field: 'x',
      value: 1,
      clock: { n: 1 },
      clientId: 'server',
    })
    const [ack] = await server.waitForFrame('ack')
    expect(ack?.fields).toEqual({ id: expect.stringMatching(/^req-/), messageId: 'd-42' })
    server.send(server.last, 'ping', {})
    const [pong] = await server.waitForFrame('pong')
    expect(pong?.fields).toEqual({ id: expect.stringMatching(/^req-/) })
    await waitFor(() => client.get('doc')?.x === 1)
  })
})
