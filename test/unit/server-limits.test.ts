import { afterEach, describe, expect, it } from 'vitest'
import { HEARTBEAT_CHUNK, heartbeatGapMs } from '../../src/server/connection.js'
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

  it('spreads a large sweep over a quarter of the interval, each socket still pinged once', async () => {
    const intervalMs = 800
    const sync = server({ heartbeat: { intervalMs } })
    const sockets = Array.from({ length: 8 * HEARTBEAT_CHUNK }, () => new FakeSocket())
    for (const socket of sockets) sync.handleConnection(socket, {})
    const times: number[] = []
    for (const socket of sockets) socket.onPing = () => times.push(performance.now())
    await waitFor(() => times.length === sockets.length, 5_000, 'every socket pinged')
    // 8 chunks, 7 gaps of heartbeatGapMs: timers never fire early, so this bound holds under load.
    const gapMs = heartbeatGapMs(sockets.length, intervalMs)
    expect(gapMs).toBe(Math.floor(intervalMs / 4 / 8))
    expect((times.at(-1) as number) - (times[0] as number)).toBeGreaterThanOrEqual(7 * gapMs - 7)
    expect(sockets.every((s) => s.pings === 1)).toBe(true)
    expect(heartbeatGapMs(HEARTBEAT_CHUNK * 4, intervalMs)).toBe(0)
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

  it('reads proxy headers only with trustProxy set', () => {
    const headers = { 'x-forwarded-for': '203.0.113.7, 10.0.0.1', 'x-real-ip': '198.51.100.1' }
    const untrusted = server({ maxConnectionsPerIp: 1 })
    const a = new FakeSocket()
    const b = new FakeSocket()
    untrusted.handleConnection(a, { remoteAddress: '10.0.0.1', headers })
    untrusted.handleConnection(b, { remoteAddress: '10.0.0.2', headers })
    expect(b.closedWith).toBeUndefined() // distinct socket addresses; the headers are ignored
  })

  // Regression (issue 10, hole 5): `trustProxy` used to read the leftmost entry, which the client writes.
  it('a client cannot escape the cap by sending its own leftmost X-Forwarded-For entries', () => {
    const sync = server({ maxConnectionsPerIp: 2, trustProxy: true })
    const ips: (string | undefined)[] = []
    sync.on('connection', (e) => ips.push(e.ip))
    const sockets = [1, 2, 3, 4].map(() => new FakeSocket())
    for (const [i, socket] of sockets.entries()) {
      // The client sent `X-Forwarded-For: 198.51.100.<i>`; the proxy appended the real address.
      sync.handleConnection(socket, {
        remoteAddress: '10.0.0.1',
        headers: { 'x-forwarded-for': `198.51.100.${i}, 203.0.113.9` },
      })
    }
    expect(ips).toEqual(['203.0.113.9', '203.0.113.9'])
    expect(sockets.map((s) => s.closedWith?.code)).toEqual([undefined, undefined, 1008, 1008])
  })

  it('proxy headers from a peer outside the trusted list are ignored (X-Real-IP included)', () => {
    const sync = server({ maxConnectionsPerIp: 1, trustProxy: ['10.0.0.1'] })
    const sockets = [1, 2].map(() => new FakeSocket())
    for (const [i, socket] of sockets.entries()) {
      sync.handleConnection(socket, {
        remoteAddress: '192.0.2.50',
        headers: { 'x-forwarded-for': `198.51.100.${i}`, 'x-real-ip': `198.51.100.${i}` },
      })
    }
    expect(sockets[1]?.closedWith).toEqual({ code: 1008, reason: 'Too many connections from your IP' })
  })

  it('junk in X-Forwarded-For never becomes a client address of its own', () => {
    const sync = server({ maxConnectionsPerIp: 1, trustProxy: true })
    const sockets = ['junk-1', 'junk-2'].map(() => new FakeSocket())
    for (const [i, socket] of sockets.entries()) {
      sync.handleConnection(socket, {
        remoteAddress: '10.0.0.1',
        headers: { 'x-forwarded-for': `junk-${i}` },
      })
    }
    expect(sockets[1]?.closedWith?.code).toBe(1008)
  })

  it('IPv6 clients are counted per /64, not per address', () => {
    const sync = server({ maxConnectionsPerIp: 2 })
    const ips: (string | undefined)[] = []
    sync.on('connection', (e) => ips.push(e.ip))
    const sockets = [1, 2, 3].map(() => new FakeSocket())
    const handles = sockets.map((socket, i) =>
      sync.handleConnection(socket, { remoteAddress: `2001:db8:1:2:${i}::${i + 1}` }),
    )
    expect(sockets[2]?.closedWith).toEqual({ code: 1008, reason: 'Too many connections from your IP' })
    // Events still name the full address; only the count is per network.
    expect(ips).toEqual(['2001:db8:1:2::1', '2001:db8:1:2:1::2'])
    const otherPrefix = new FakeSocket()
    sync.handleConnection(otherPrefix, { remoteAddress: '2001:db8:1:3::1' })
    expect(otherPrefix.closedWith).toBeUndefined()
    handles[0]?.closed()
    const again = new FakeSocket()
    sync.handleConnection(again, { remoteAddress: '2001:DB8:1:2:ffff:ffff:ffff:ffff' })
    expect(again.closedWith).toBeUndefined()
  })

  it('the docs/security.md example: one proxy in 10.0.0.0/8', () => {
    const sync = server({ trustProxy: ['10.0.0.0/8'], maxConnectionsPerIp: 50 })
    const ips: (string | undefined)[] = []
    sync.on('connection', (e) => ips.push(e.ip))
    sync.handleConnection(new FakeSocket(), {
      remoteAddress: '10.0.0.5',
      headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.7' },
    })
    expect(ips).toEqual(['203.0.113.7'])
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

  it('rejects a trustProxy it cannot use, naming the bad part', () => {
    expect(() => createSyncServer({ trustProxy: -1 })).toThrow(
      /^Invalid option trustProxy: -1 is not a whole number of hops \(expected true, false, a number of proxy hops/,
    )
    expect(() => createSyncServer({ trustProxy: ['10.0.0.0/8', 'proxy.internal'] })).toThrow(
      'Invalid option trustProxy: "proxy.internal" is not an IP address or CIDR range',
    )
  })

  it('exposes the effective transport limits', () => {
    const sync = server({ limits: { maxFrameBytes: 1000 } })
    expect(sync.limits).toMatchObject({ maxFrameBytes: 1000, maxPayloadBytes: 2000, maxConnectionsPerIp: 50 })
  })
})
