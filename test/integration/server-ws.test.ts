import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { type AttachedWebSocketServer, attachWebSocketServer } from '../../adapters/ws.js'
import { createSyncServer, type SyncServer, type SyncServerOptions } from '../../src/server/index.js'
import { probeUpgrade } from '../helpers/upgrade-probe.js'
import { CODES, RawClient, withCode, withType } from './server-client.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function start(
  options: SyncServerOptions = {},
): Promise<{ sync: SyncServer; attached: AttachedWebSocketServer; url: string; http: string }> {
  const sync = createSyncServer({ auth: { required: false }, ...options })
  const attached = await attachWebSocketServer(sync, { port: 0, host: '127.0.0.1' })
  cleanups.push(
    () => sync.close(),
    () => attached.close(),
  )
  return {
    sync,
    attached,
    url: `ws://127.0.0.1:${attached.port}/ws`,
    http: `http://127.0.0.1:${attached.port}`,
  }
}

async function client(url: string): Promise<RawClient> {
  const c = await RawClient.connect(url)
  cleanups.push(async () => c.ws.terminate())
  return c
}

describe('ws adapter (attachWebSocketServer)', () => {
  it('answers a binary ping (0x30) with a binary pong (0x31)', async () => {
    const { url } = await start()
    const c = await client(url)
    c.send(CODES.ping, { id: 'p1' })
    const pong = await c.next(withCode(CODES.pong))
    expect(pong.binary).toBe(true)
    expect(typeof pong.payload.id).toBe('string')
    expect(pong.timestamp).toBeGreaterThan(0)
  })

  it('serves an anonymous subscribe with sync_response and echoes writes to every subscriber', async () => {
    const { url } = await start()
    const a = await client(url)
    const b = await client(url)
    a.send(CODES.subscribe, { documentId: 'todo-1' })
    b.send(CODES.subscribe, { documentId: 'todo-1' })
    const response = await a.next(withCode(CODES.sync_response))
    expect(response.payload).toMatchObject({ documentId: 'todo-1', state: {}, deltas: [] })
    await b.next(withCode(CODES.sync_response))

    a.send(CODES.delta, { documentId: 'todo-1', delta: { title: 'buy milk' }, messageId: 'm-1' })
    const ack = await a.next(withCode(CODES.ack))
    expect(ack.payload.messageId).toBe('m-1')
    for (const peer of [a, b]) {
      const echo = await peer.next(withCode(CODES.delta))
      expect(echo.payload).toMatchObject({
        documentId: 'todo-1',
        field: 'title',
        value: 'buy milk',
        clientId: 'server',
      })
    }
  })

  it('answers a JSON client in JSON text frames', async () => {
    const { url } = await start()
    const c = await client(url)
    c.sendJson({ type: 'sync_request', id: 'r1', timestamp: Date.now(), documentId: 'doc-json' })
    const response = await c.next(withType('sync_response'))
    expect(response.binary).toBe(false)
    expect(response.payload).toMatchObject({ requestId: 'r1', documentId: 'doc-json' })
  })

  it('serves the HTTP routes on the same port, with 426 on a plain GET /ws', async () => {
    const { http } = await start()
    const health = await fetch(`${http}/health`)
    expect(health.status).toBe(200)
    expect(health.headers.get('x-frame-options')).toBe('DENY')
    expect(await health.json()).toMatchObject({ status: 'healthy', connections: { totalConnections: 0 } })
    const ws = await fetch(`${http}/ws`)
    expect(ws.status).toBe(426)
    expect(await ws.text()).toContain('Upgrade Required')
    const metrics = await fetch(`${http}/metrics`)
    expect(await metrics.text()).toContain('synckit_connections 0')
    expect((await fetch(`${http}/missing`)).status).toBe(404)
  })

  it('refuses upgrades on other paths with 404', async () => {
    const { attached } = await start()
    const ws = new WebSocket(`ws://127.0.0.1:${attached.port}/other`)
    const error = await new Promise<Error>((resolve) => ws.once('error', resolve))
    expect(error.message).toContain('404')
  })

  it('negotiates no permessage-deflate and closes oversized frames with 1009', async () => {
    const { url } = await start({ limits: { maxFrameBytes: 1_000 } })
    const c = await client(url)
    expect(c.ws.extensions).toBe('')
    c.ws.send(Buffer.alloc(5_000))
    expect((await c.closed).code).toBe(1009)
  })

  it('closes clients with 1001 "Server shutdown" on server.close()', async () => {
    const { sync, url } = await start()
    const c = await client(url)
    c.send(CODES.ping, {})
    await c.next(withCode(CODES.pong))
    await sync.close()
    expect(await c.closed).toEqual({ code: 1001, reason: 'Server shutdown' })
  })

  it('enforces the per-IP limit on real sockets: HTTP 429 before the handshake', async () => {
    const { url } = await start({ maxConnectionsPerIp: 1 })
    await client(url)
    const second = await probeUpgrade(url)
    expect(second.status).toBe(429)
    expect(JSON.parse(second.body)).toEqual({
      error: { code: 'TOO_MANY_CONNECTIONS', message: 'Too many connections from your IP' },
    })
  })

  it('enforces the per-IP limit after the handshake (1008) on a WebSocketServer of your own', async () => {
    const sync = createSyncServer({ auth: { required: false }, maxConnectionsPerIp: 1 })
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    await new Promise((resolve) => wss.once('listening', resolve))
    const attached = await attachWebSocketServer(sync, { wss })
    cleanups.push(
      () => sync.close(),
      () => attached.close(),
      () => new Promise<void>((resolve) => wss.close(() => resolve())),
    )
    const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`
    await client(url)
    const second = new RawClient(new WebSocket(url))
    cleanups.push(async () => second.ws.terminate())
    expect(await second.closed).toEqual({ code: 1008, reason: 'Too many connections from your IP' })
  })

  it('answers protocol pings itself; a client that stops answering is cut by the heartbeat', async () => {
    const { sync, url } = await start({ heartbeat: { intervalMs: 30 } })
    const c = await client(url)
    // ws clients answer protocol pings automatically: still connected after several intervals.
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(c.ws.readyState).toBe(WebSocket.OPEN)
    // Pausing the socket stops it reading (and so answering) pings.
    const disconnected = new Promise((resolve) => sync.once('disconnect', resolve))
    c.ws.pause()
    await disconnected
    expect(sync.stats().connections).toBe(0)
  })

  it('serves a caller-provided WebSocketServer', async () => {
    const sync = createSyncServer({ auth: { required: false } })
    const httpServer = createServer()
    const wss = new WebSocketServer({ server: httpServer, perMessageDeflate: false })
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve))
    const attached = await attachWebSocketServer(sync, { wss })
    cleanups.push(
      () => sync.close(),
      () => attached.close(),
      () => new Promise<void>((resolve) => wss.close(() => httpServer.close(() => resolve()))),
    )
    expect(attached.port).toBe((httpServer.address() as AddressInfo).port)
    const c = await client(`ws://127.0.0.1:${attached.port}/anything`)
    c.send(CODES.ping, {})
    await c.next(withCode(CODES.pong))
    await attached.close()
    expect((await c.closed).code).toBe(1001)
  })

  it('closes a reader that stopped reading with 1013, keeping server memory bounded', async () => {
    const hardLimit = 512 * 1024
    const { sync, url } = await start({
      backpressure: { highWaterMark: 64 * 1024, hardLimit },
      limits: { maxFrameBytes: 4 * 1024 * 1024 },
    })
    const reader = await client(url)
    const writer = await client(url)
    reader.send(CODES.subscribe, { documentId: 'flood' })
    await reader.next(withCode(CODES.sync_response))
    const closed = new Promise<{ code?: number; reason?: string }>((resolve) => {
      sync.on('disconnect', (e) => {
        if (e.code === 1013) resolve(e)
      })
    })
    reader.ws.pause() // the TCP window fills, then ws.bufferedAmount grows
    let maxQueued = 0
    const value = 'v'.repeat(10_000)
    for (let batch = 0; batch < 60; batch++) {
      const delta: Record<string, string> = {}
      for (let i = 0; i < 100; i++) delta[`f${batch}-${i}`] = value
      writer.send(CODES.delta, { documentId: 'flood', delta })
      await new Promise((resolve) => setTimeout(resolve, 5))
      maxQueued = Math.max(maxQueued, sync.stats().queuedBytes)
      if (sync.stats().connections < 2) break
    }
    expect(await closed).toMatchObject({ code: 1013, reason: 'Client too slow; reconnect to resync' })
    expect(maxQueued).toBeLessThanOrEqual(hardLimit)
  })
})
