import { createServer, type IncomingMessage, type Server } from 'node:http'
import { type AddressInfo, connect, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { attachWebSocketServer } from '../../adapters/ws.js'
import { createSyncServer, type TrustProxy } from '../../src/server/index.js'
import { within } from '../helpers/wait-for.js'
import { CODES, RawClient, withCode } from './server-client.js'

/**
 * The per-IP cap over real sockets, behind a real reverse proxy that does what nginx's
 * `$proxy_add_x_forwarded_for` does: keep the client's `X-Forwarded-For` and append the address
 * it accepted the client from. Clients bind distinct loopback addresses (127.0.0.2, 127.0.0.3) so
 * the proxy sees distinct clients; the server only ever sees the proxy (127.0.0.1).
 */

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function startBehindProxy(trustProxy: TrustProxy) {
  const sync = createSyncServer({ auth: { required: false }, maxConnectionsPerIp: 2, trustProxy })
  const attached = await attachWebSocketServer(sync, { port: 0, host: '127.0.0.1' })
  const ips: (string | undefined)[] = []
  sync.on('connection', (event) => ips.push(event.ip))
  const proxy = await appendingProxy(attached.port)
  cleanups.push(
    () => sync.close(),
    () => attached.close(),
    () => new Promise<void>((resolve) => proxy.server.close(() => resolve())),
    () => {
      for (const socket of proxy.sockets) socket.destroy()
    },
  )
  return {
    ips,
    viaProxy: `ws://127.0.0.1:${proxy.port}/ws`,
    direct: `ws://127.0.0.1:${attached.port}/ws`,
  }
}

/** Opens a socket from `localAddress` with a spoofed `X-Forwarded-For`; resolves how it ended. */
async function open(url: string, localAddress: string, spoofed: string): Promise<string> {
  const client = new RawClient(new WebSocket(url, { localAddress, headers: { 'X-Forwarded-For': spoofed } }))
  cleanups.push(() => client.ws.terminate())
  // The cap refuses at the upgrade, with HTTP 429 and no WebSocket; a pong proves an open socket
  // is served.
  const refused = new Promise<string>((resolve) => {
    client.ws.once('unexpected-response', (_request, response) => resolve(`HTTP ${response.statusCode}`))
  })
  const served = client.opened.then(async () => {
    client.send(CODES.ping, { id: 'p' })
    await client.next(withCode(CODES.pong), 10_000)
    return 'open'
  })
  const closed = client.closed.then(({ code, reason }) => `${code} ${reason}`)
  return within(Promise.race([served, closed, refused]), 10_000, `socket from ${localAddress}`)
}

const REFUSED = 'HTTP 429'

describe('trustProxy over real sockets behind a proxy that appends X-Forwarded-For', () => {
  for (const [name, trust] of [
    ['one hop (true)', true],
    ['the proxy address in a list', ['127.0.0.1']],
  ] satisfies [string, TrustProxy][]) {
    it(`${name}: the per-IP cap holds whatever the client puts in X-Forwarded-For`, async () => {
      const { ips, viaProxy } = await startBehindProxy(trust)
      const outcomes: string[] = []
      for (const spoofed of ['198.51.100.1', '198.51.100.2', '198.51.100.3, 203.0.113.50', 'junk']) {
        outcomes.push(await open(viaProxy, '127.0.0.2', spoofed))
      }
      expect(outcomes).toEqual(['open', 'open', REFUSED, REFUSED])
      // Another client behind the same proxy has its own allowance.
      expect(await open(viaProxy, '127.0.0.3', '127.0.0.2')).toBe('open')
      expect(ips).toEqual(['127.0.0.2', '127.0.0.2', '127.0.0.3'])
    })
  }

  it('a peer outside the trusted list cannot name an address at all', async () => {
    const { ips, direct } = await startBehindProxy(['127.0.0.1'])
    expect(await open(direct, '127.0.0.2', '198.51.100.1')).toBe('open')
    expect(await open(direct, '127.0.0.2', '198.51.100.2')).toBe('open')
    expect(await open(direct, '127.0.0.2', '198.51.100.3')).toBe(REFUSED)
    expect(ips).toEqual(['127.0.0.2', '127.0.0.2'])
  })
})

/** A WebSocket reverse proxy on 127.0.0.1 that appends the client address to X-Forwarded-For. */
async function appendingProxy(
  upstreamPort: number,
): Promise<{ server: Server; port: number; sockets: Set<Socket | Duplex> }> {
  const sockets = new Set<Socket | Duplex>()
  const server = createServer((_req, res) => {
    res.writeHead(404).end()
  })
  server.on('upgrade', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    const upstream = connect({ host: '127.0.0.1', port: upstreamPort })
    sockets.add(client).add(upstream)
    const lines = [`${req.method} ${req.url} HTTP/1.1`]
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (req.rawHeaders[i]?.toLowerCase() !== 'x-forwarded-for') {
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`)
      }
    }
    const previous = req.headers['x-forwarded-for']
    const peer = req.socket.remoteAddress ?? ''
    lines.push(`X-Forwarded-For: ${previous ? `${previous}, ${peer}` : peer}`)
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`)
    if (head.length > 0) upstream.write(head)
    upstream.pipe(client).pipe(upstream)
    const end = () => {
      client.destroy()
      upstream.destroy()
    }
    upstream.on('error', end).on('close', end)
    client.on('error', end).on('close', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as AddressInfo).port, sockets }
}
