import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { CloseEvent, OpenEvent } from '../../src/client/types.js'
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

describe('client reconnect', () => {
  it('reconnects after a drop, resyncs by vector clock, then resends unacked writes with the same messageId', async () => {
    const client = fx.client(server, { clientId: 'c', reconnect: { initialDelayMs: 80, maxDelayMs: 500 } })
    const opens: OpenEvent[] = []
    const closes: CloseEvent[] = []
    client.on('open', (e) => opens.push(e))
    client.on('close', (e) => closes.push(e))
    await client.connect()
    await client.subscribe('doc')
    await client.set('doc', 'a', 1)
    // A write from another node: the fake's state has it too, as the resync will report.
    server.doc('doc').set('b', 2)
    server.send(server.last, 'delta', {
      documentId: 'doc',
      field: 'b',
      value: 2,
      clock: { srv: 7 },
      clientId: 'server',
    })
    await waitFor(() => client.get('doc')?.b === 2)

    server.auto.ack = false
    server.auto.echo = false
    const pending = client.set('doc', 'c', 3)
    const [, unacked] = await server.waitForFrame('delta_batch', 2)
    const dropAt = Date.now()
    server.auto.ack = true
    server.auto.echo = true
    server.dropAll()
    await waitFor(() => closes.length === 1)
    expect(client.connected).toBe(false)
    expect(closes[0]).toMatchObject({ code: 1006, willReconnect: true })
    // While offline: queued, sent after the resync.
    const offline = client.set('doc', 'd', 4)

    await server.waitForConnections(2)
    expect(Date.now() - dropAt).toBeGreaterThanOrEqual(75)
    await within(Promise.all([pending, offline]), 3000, 'resent writes')
    expect(opens).toEqual([{ reconnected: false }, { reconnected: true }])

    const second = server.frames.filter((f) => f.conn === 1)
    expect(second.map((f) => f.type)).toEqual(['sync_request', 'delta_batch', 'delta_batch'])
    expect(second[0]?.fields).toEqual({ documentId: 'doc', vectorClock: { 'fake-node': 1, srv: 7 } })
    expect(second[1]?.fields).toEqual(unacked?.fields)
    expect(second[2]?.fields.messageId).toEqual(expect.stringMatching(/^msg-/))
    expect(client.get('doc')).toEqual({ a: 1, b: 2, c: 3, d: 4 })
  })

  it('replaces the replica from the resync state, dropping fields deleted while offline', async () => {
    server.doc('doc').set('keep', 1).set('gone', 2)
    const client = fx.client(server)
    await client.connect()
    await client.subscribe('doc')
    expect(client.get('doc')).toEqual({ keep: 1, gone: 2 })
    server.dropAll()
    server.doc('doc').delete('gone')
    server.doc('doc').set('new', 3)
    await server.waitForConnections(2)
    await waitFor(() => client.get('doc')?.new === 3)
    expect(client.get('doc')).toEqual({ keep: 1, new: 3 })
  })

  it('backs off exponentially between failed attempts', async () => {
    server.auto.auth = false
    const client = fx.client(server, {
      token: 't',
      reconnect: { initialDelayMs: 40, maxDelayMs: 1000, factor: 2 },
    })
    const connecting = client.connect()
    await server.waitForFrame('auth')
    server.send(server.last, 'auth_success', { userId: 'u' })
    await within(connecting, 2000, 'connect')
    // From now on every connection is cut before it authenticates: attempts 1, 2, 3 fail.
    const times: number[] = []
    server.dropAll()
    const started = Date.now()
    for (let n = 2; n <= 4; n++) {
      const sockets = await server.waitForConnections(n, 3000)
      times.push(Date.now() - started)
      sockets.at(-1)?.terminate()
    }
    const gaps = times.map((t, i) => t - (times[i - 1] ?? 0))
    // Delays 40, 80, 160 ms (+0-10 % jitter); the socket round trips only add to them.
    expect(gaps[0]).toBeGreaterThanOrEqual(38)
    expect(gaps[1]).toBeGreaterThanOrEqual(78)
    expect(gaps[2]).toBeGreaterThanOrEqual(155)
    expect(gaps[2]).toBeLessThan(1500)
  })

  it('does not reconnect after disconnect(); connect() later resyncs and resends', async () => {
    const client = fx.client(server)
    await client.connect()
    await client.subscribe('doc')
    client.disconnect()
    const offline = client.set('doc', 'x', 1)
    await sleep(150)
    expect(server.sockets).toHaveLength(1)
    await client.connect()
    await within(offline, 2000, 'offline write')
    expect(server.frames.filter((f) => f.conn === 1).map((f) => f.type)).toEqual([
      'sync_request',
      'delta_batch',
    ])
  })

  it('reconnect: false leaves the client closed', async () => {
    const client = fx.client(server, { reconnect: false })
    const closes: CloseEvent[] = []
    client.on('close', (e) => closes.push(e))
    await client.connect()
    server.dropAll()
    await waitFor(() => closes.length === 1)
    expect(closes[0]?.willReconnect).toBe(false)
    await sleep(100)
    expect(server.sockets).toHaveLength(1)
  })

  it('survives a server restart on the same port', async () => {
    const client = fx.client(server)
    await client.connect()
    await client.subscribe('doc')
    const port = server.port
    await server.close()
    await sleep(60)
    const next = await fx.server(port)
    next.doc('doc').set('after', 'restart')
    await waitFor(() => client.get('doc')?.after === 'restart', { timeoutMs: 3000 })
    expect(next.framesOf('sync_request')[0]?.fields).toMatchObject({ documentId: 'doc' })
  })

  it('legacy dialect re-authenticates and re-requests the state by id', async () => {
    const client = fx.client(server, { dialect: 'legacy' })
    await client.connect()
    await client.subscribe('doc')
    server.dropAll()
    await server.waitForConnections(2)
    await waitFor(() => server.frames.filter((f) => f.conn === 1).length === 2)
    const second = server.frames.filter((f) => f.conn === 1)
    expect(second.map((f) => f.type)).toEqual(['auth', 'sync_request'])
    expect(second[1]?.fields).toEqual({ id: expect.stringMatching(/^req-/), documentId: 'doc' })
  })
})
