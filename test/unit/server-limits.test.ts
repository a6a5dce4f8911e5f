import { afterEach, describe, expect, it } from 'vitest'
import { HEARTBEAT_CHUNK } from '../../src/server/connection.js'
import { createSyncServer, type SyncServer, type SyncServerOptions } from '../../src/server/index.js'
import { FakeSocket, frame, sleep, waitFor } from './server-fakes.js'

const servers: SyncServer[] = []
function server(options: SyncServerOptions = {}): SyncServer {
  const created = createSyncServer({ auth: { required: false }, ...options })
  servers.push(created)
  return created
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

describe('heartbeat', () => {
  it('closes a socket that answers no protocol ping for two intervals', async () => {
    const sync = server({ heartbeat: { intervalMs: 20 } })
    const dead = new FakeSocket()
    const disconnects: string[] = []
    sync.on('disconnect', (e) => disconnects.push(`${e.code}:${e.reason}`))
    sync.handleConnection(dead, { remoteAddress: '10.0.0.1' })
    await waitFor(() => dead.closedWith !== undefined, 1_000, 'heartbeat close')
    expect(dead.pings).toBeGreaterThanOrEqual(1)
    expect(dead.closedWith).toEqual({ code: 1001, reason: 'Heartbeat timeout' })
    expect(disconnects).toEqual(['1001:Heartbeat timeout'])
    expect(sync.stats().connections).toBe(0)
  })

  it('terminates instead when the transport can abort', async () => {
    const sync = server({ heartbeat: { intervalMs: 20 } })
    const dead = new FakeSocket({ terminate: true })
    sync.handleConnection(dead, { remoteAddress: '10.0.0.1' })
    await waitFor(() => dead.terminated, 1_000, 'terminate')
    expect(dead.closedWith).toBeUndefined()
  })

  it('keeps sockets that answer pings, and sockets whose transport cannot ping', async () => {
    const sync = server({ heartbeat: { intervalMs: 20 } })
    const alive = new FakeSocket()
    const handle = sync.handleConnection(alive, { remoteAddress: '10.0.0.1' })
    alive.onPing = () => handle.pong()
    const pingless = new FakeSocket({ ping: false })
    sync.handleConnection(pingless, { remoteAddress: '10.0.0.2' })
    await sleep(200)
    expect(alive.pings).toBeGreaterThanOrEqual(2)
    expect(alive.closedWith).toBeUndefined()
    expect(pingless.closedWith).toBeUndefined()
    expect(sync.stats().connections).toBe(2)
  })

  it('sweeps in chunks, letting I/O run between them, and still pings every socket', async () => {
    const sync = server({ heartbeat: { intervalMs: 1_000 } })
    const sockets = Array.from({ length: 2 * HEARTBEAT_CHUNK + 10 }, () => new FakeSocket())
    for (const socket of sockets) sync.handleConnection(socket, {})
    let pinged = 0
    let beforeYield: number | undefined
    for (const socket of sockets) {
      socket.onPing = () => {
        pinged++
        // Runs once the sweep gives the loop back: how many went out in one go.
        if (pinged === 1) setImmediate(() => (beforeYield = pinged))
      }
    }
    await waitFor(() => pinged === sockets.length, 3_000, 'every socket pinged')
    expect(beforeYield).toBe(HEARTBEAT_CHUNK)
  })

  it('counts frames as signs of life and never sends application pings', async () => {
    const sync = server({ heartbeat: { intervalMs: 20 } })
    const chatty = new FakeSocket()
    const handle = sync.handleConnection(chatty, { remoteAddress: '10.0.0.1' })
    for (let i = 0; i < 10; i++) {
      handle.receive(frame('pong'))
      await sleep(15)
    }
    expect(chatty.closedWith).toBeUndefined()
    expect(chatty.messages().filter((m) => m.type === 'ping')).toHaveLength(0)
  })
})

describe('connection limits', () => {
  it('refuses a client IP over its limit with 1008', () => {
    const sync = server({ maxConnectionsPerIp: 2 })
    const rejected: string[] = []
    sync.on('connection-rejected', (e) => rejected.push(`${e.ip}:${e.code}`))
    const sockets = [1, 2, 3].map(() => new FakeSocket())
    const handles = sockets.map((s) => sync.handleConnection(s, { remoteAddress: '::ffff:10.0.0.9' }))
    expect(sockets[2]?.closedWith).toEqual({ code: 1008, reason: 'Too many connections from your IP' })
    expect(rejected).toEqual(['10.0.0.9:1008'])
    const other = new FakeSocket()
    sync.handleConnection(other, { remoteAddress: '10.0.0.10' })
    expect(other.closedWith).toBeUndefined()
    handles[0]?.closed()
    const again = new FakeSocket()
    sync.handleConnection(again, { remoteAddress: '10.0.0.9' })
    expect(again.closedWith).toBeUndefined()
  })

  it('refuses beyond maxConnections with 1008 "Server at maximum capacity"', () => {
    const sync = server({ maxConnections: 2 })
    const sockets = [1, 2, 3].map(() => new FakeSocket())
    for (const [i, s] of sockets.entries()) sync.handleConnection(s, { remoteAddress: `10.0.0.${i}` })
    expect(sockets[2]?.closedWith).toEqual({ code: 1008, reason: 'Server at maximum capacity' })
    expect(sync.stats()).toMatchObject({ connections: 2, rejectedConnections: 1 })
    expect(sync.metrics()).toContain(
      'synckit_connections_rejected_total{reason="Server at maximum capacity"} 1',
    )
  })

  it('reads X-Forwarded-For / X-Real-IP only behind a trusted proxy', () => {
    const headers = { 'x-forwarded-for': '203.0.113.7, 10.0.0.1', 'x-real-ip': '198.51.100.1' }
    const untrusted = server({ maxConnectionsPerIp: 1 })
    const a = new FakeSocket()
    const b = new FakeSocket()
    untrusted.handleConnection(a, { remoteAddress: '10.0.0.1', headers })
    untrusted.handleConnection(b, { remoteAddress: '10.0.0.2', headers })
    expect(b.closedWith).toBeUndefined() // distinct socket addresses; the header is ignored

    const trusted = server({ maxConnectionsPerIp: 1, trustProxy: true })
    const c = new FakeSocket()
    const d = new FakeSocket()
    const e = new FakeSocket()
    trusted.handleConnection(c, { remoteAddress: '10.0.0.1', headers })
    trusted.handleConnection(d, { remoteAddress: '10.0.0.2', headers: new Headers(headers) })
    trusted.handleConnection(e, { remoteAddress: '10.0.0.3', headers: { 'X-Real-IP': '198.51.100.1' } })
    expect(d.closedWith?.code).toBe(1008) // same forwarded client
    expect(e.closedWith).toBeUndefined()
  })

  it('does not apply the per-IP limit to sockets without an address', () => {
    const sync = server({ maxConnectionsPerIp: 1 })
    const sockets = [1, 2, 3].map(() => new FakeSocket())
    for (const socket of sockets) sync.handleConnection(socket)
    expect(sockets.every((s) => s.closedWith === undefined)).toBe(true)
  })
})

describe('option validation', () => {
  it('rejects nonsensical numbers', () => {
    expect(() => createSyncServer({ maxConnections: 0 })).toThrow(RangeError)
    expect(() => createSyncServer({ heartbeat: { intervalMs: Number.NaN } })).toThrow(RangeError)
    expect(() => createSyncServer({ backpressure: { highWaterMark: 10, hardLimit: 5 } })).toThrow(RangeError)
    expect(() => createSyncServer({ limits: { maxFrameBytes: -1 } })).toThrow(RangeError)
  })

  it('exposes the effective transport limits', () => {
    const sync = server({ limits: { maxFrameBytes: 1000 } })
    expect(sync.limits).toMatchObject({ maxFrameBytes: 1000, maxPayloadBytes: 2000, maxConnectionsPerIp: 50 })
  })
})
