import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import crossws from 'crossws/adapters/node'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { createCrosswsHooks, nodeUpgradeRequest } from '../../adapters/crossws.js'
import { attachToHttpServer } from '../../adapters/node.js'
import { attachWebSocketServer, bindWebSocket, upgradeRequest } from '../../adapters/ws.js'
import { createCookieSessionServer, signSession } from '../../examples/cookie-auth.js'
import type { Principal } from '../../src/engine/types.js'
import { createSyncServer, type SyncServer, type SyncServerOptions } from '../../src/server/index.js'
import { probeUpgrade } from '../helpers/upgrade-probe.js'
import { within } from '../helpers/wait-for.js'
import { CODES, RawClient, withCode } from './server-client.js'

/**
 * The upgrade check over real sockets, on both Node transports: refusals are HTTP statuses the
 * client sees before any WebSocket exists, and the server never sees a connection for them.
 */

const SECRET = 'test-session-secret-0123456789abcdef'
const ORIGIN = 'https://app.example.com'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

type Transport = (sync: SyncServer) => Promise<string>

/** A node:http server of the test's, listening on 127.0.0.1, closed after the test. */
async function listening(httpServer: Server, ...more: (() => Promise<void>)[]): Promise<string> {
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve))
  cleanups.push(
    ...more,
    () =>
      new Promise<void>((resolve) => {
        httpServer.close(() => resolve())
        httpServer.closeAllConnections()
      }),
  )
  return `ws://127.0.0.1:${(httpServer.address() as AddressInfo).port}/ws`
}

const TRANSPORTS: [string, Transport][] = [
  [
    'ws (attachWebSocketServer)',
    async (sync) => {
      const attached = await attachWebSocketServer(sync, { port: 0, host: '127.0.0.1' })
      cleanups.push(() => attached.close())
      return `ws://127.0.0.1:${attached.port}/ws`
    },
  ],
  [
    'node:http (attachToHttpServer)',
    async (sync) => {
      const httpServer = createServer((_req, res) => res.writeHead(404).end())
      const attached = attachToHttpServer(sync, httpServer)
      return listening(httpServer, () => attached.close())
    },
  ],
  [
    'crossws (createCrosswsHooks on crossws/adapters/node)',
    async (sync) => {
      const ws = crossws({ hooks: createCrosswsHooks(sync, { path: '/ws' }) })
      const httpServer = createServer((_req, res) => res.writeHead(404).end())
      httpServer.on('upgrade', (req, socket, head) =>
        ws.handleUpgrade(req, socket, head, nodeUpgradeRequest(req)),
      )
      return listening(httpServer, () => ws.close())
    },
  ],
]

/** Every connection the server admitted or refused, as it saw them. */
function watch(sync: SyncServer) {
  const seen = { connections: [] as string[], rejected: [] as (number | undefined)[] }
  sync.on('connection', (event) => seen.connections.push(event.userId ?? event.connectionId))
  sync.on('connection-rejected', (event) => seen.rejected.push(event.status))
  return seen
}

async function client(url: string, headers?: Record<string, string>): Promise<RawClient> {
  const c = await RawClient.connect(url, headers)
  cleanups.push(async () => c.ws.terminate())
  return c
}

for (const [name, listen] of TRANSPORTS) {
  describe(`the upgrade check on ${name}`, () => {
    async function start<C>(sync: SyncServer<C>): Promise<string> {
      cleanups.push(() => sync.close())
      return listen(sync as SyncServer)
    }

    it('admits a signed session cookie through auth.authenticate (docs/security.md example)', async () => {
      const sync = createCookieSessionServer(SECRET)
      const contexts: unknown[] = []
      sync.on('connection', (event) => contexts.push(event.context))
      const seen = watch(sync as SyncServer)
      const url = await start(sync)
      const alice = await client(url, {
        cookie: `theme=dark; session=${signSession('alice', SECRET)}`,
        origin: ORIGIN,
      })
      // The legacy dialect's credential-less `auth` learns who the cookie made it.
      alice.send(CODES.auth, {})
      const success = await alice.next(withCode(CODES.auth_success))
      expect(success.payload.userId).toBe('alice')
      // Her grant is her own documents: writes there are acked, elsewhere refused.
      alice.send(CODES.delta, { documentId: 'user:alice:notes', delta: { title: 'hi' }, messageId: 'm1' })
      expect((await alice.next(withCode(CODES.ack))).payload.messageId).toBe('m1')
      alice.send(CODES.delta, { documentId: 'user:bob:notes', delta: { title: 'x' }, messageId: 'm2' })
      expect((await alice.next(withCode(CODES.error))).payload.details).toMatchObject({
        code: 'PERMISSION_DENIED',
      })
      expect(seen.connections).toEqual(['alice'])
      expect(contexts).toEqual([{ userId: 'alice' }])
    })

    it('refuses a missing or forged cookie with HTTP 401 and opens no WebSocket', async () => {
      const sync = createCookieSessionServer(SECRET)
      const seen = watch(sync as SyncServer)
      const url = await start(sync)
      const missing = await probeUpgrade(url, { origin: ORIGIN })
      const forged = await probeUpgrade(url, { origin: ORIGIN, cookie: `session=alice.${'A'.repeat(43)}` })
      for (const answer of [missing, forged]) {
        expect(answer.status).toBe(401)
        expect(answer.headers['content-type']).toBe('application/json; charset=utf-8')
        expect(JSON.parse(answer.body)).toEqual({
          error: { code: 'AUTH_FAILED', message: 'Authentication failed' },
        })
      }
      expect(seen.connections).toEqual([])
      expect(seen.rejected).toEqual([401, 401])
      expect(sync.stats().connections).toBe(0)
    })

    it('refuses another site with HTTP 403 even with a valid cookie', async () => {
      const sync = createCookieSessionServer(SECRET)
      const seen = watch(sync as SyncServer)
      const url = await start(sync)
      const cookie = `session=${signSession('alice', SECRET)}`
      const answer = await probeUpgrade(url, { cookie, origin: 'https://evil.example.net' })
      expect(answer.status).toBe(403)
      expect(JSON.parse(answer.body).error.code).toBe('ORIGIN_NOT_ALLOWED')
      expect((await probeUpgrade(url, { cookie, origin: ORIGIN })).status).toBe(101)
      expect(seen.rejected).toEqual([403])
    })

    it('refuses the connection over the per-IP cap with HTTP 429 and opens no WebSocket', async () => {
      const sync = createSyncServer({ auth: { required: false }, maxConnectionsPerIp: 2 })
      const seen = watch(sync)
      const url = await start(sync)
      await client(url)
      await client(url)
      const third = await probeUpgrade(url)
      expect(third.status).toBe(429)
      expect(third.headers['retry-after']).toBe('5')
      expect(JSON.parse(third.body).error.code).toBe('TOO_MANY_CONNECTIONS')
      expect(seen.connections).toHaveLength(2)
      expect(sync.stats().connections).toBe(2)
    })

    it('refuses over the global cap with HTTP 503', async () => {
      const sync = createSyncServer({ auth: { required: false }, maxConnections: 1 })
      const url = await start(sync)
      await client(url)
      const second = await probeUpgrade(url)
      expect(second.status).toBe(503)
      expect(JSON.parse(second.body).error.code).toBe('SERVER_AT_CAPACITY')
    })

    it('refuses a bad token on the upgrade with HTTP 401; a good one is answered auth_success', async () => {
      const alice: Principal = {
        userId: 'alice',
        permissions: { canRead: ['*'], canWrite: ['*'], isAdmin: false },
      }
      const sync = createSyncServer({
        auth: { verifyCredentials: async ({ token }) => (token === 'good' ? alice : null) },
      })
      const url = await start(sync)
      expect((await probeUpgrade(`${url}?token=bad`)).status).toBe(401)
      const c = await client(`${url}?token=good`)
      expect((await c.next(withCode(CODES.auth_success))).payload.userId).toBe('alice')
    })
  })
}

describe('a principal passed by the host', () => {
  it('reaches the policy and the events with its context, over a WebSocketServer of the host', async () => {
    type Tenant = { tenant: string }
    const sync = createSyncServer<Tenant>({
      auth: {
        // The tenant comes from the host, not from the principal's grant.
        authorize: ({ documentId, context }) => documentId.startsWith(`${context?.tenant}:`),
      },
    })
    const events: unknown[] = []
    sync.on('authenticated', (event) => events.push(['authenticated', event.principal.userId, event.context]))
    sync.on('subscribed', (event) => events.push(['subscribed', event.documentId, event.context]))
    // The host's own server: it checks an API header itself, then tells the sync server who it is.
    const wss = new WebSocketServer({ noServer: true })
    const httpServer = createServer()
    httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const tenant = req.headers['x-tenant']
      if (typeof tenant !== 'string') return socket.destroy()
      wss.handleUpgrade(req, socket, head, (ws) => {
        const principal: Principal = {
          userId: `svc-${tenant}`,
          permissions: { canRead: ['*'], canWrite: ['*'], isAdmin: false },
        }
        bindWebSocket(sync, ws, req, { principal, context: { tenant } })
      })
    })
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve))
    cleanups.push(
      () => sync.close(),
      () =>
        new Promise<void>((resolve) => {
          httpServer.close(() => resolve())
          httpServer.closeAllConnections()
        }),
    )
    const url = `ws://127.0.0.1:${(httpServer.address() as AddressInfo).port}/ws`
    const c = await client(url, { 'x-tenant': 'acme' })
    c.send(CODES.subscribe, { documentId: 'acme:board' })
    await c.next(withCode(CODES.sync_response))
    c.send(CODES.subscribe, { documentId: 'globex:board' })
    expect((await c.next(withCode(CODES.error))).payload.details).toMatchObject({
      code: 'PERMISSION_DENIED',
      documentId: 'globex:board',
    })
    expect(events).toEqual([
      ['authenticated', 'svc-acme', { tenant: 'acme' }],
      ['subscribed', 'acme:board', { tenant: 'acme' }],
    ])
    expect(upgradeRequest(undefined)).toEqual({})
  })
})

describe('crossws without the client address at the upgrade', () => {
  it('still holds the per-IP cap once the socket opens (close 1008), and counts the address', async () => {
    // crossws's Node adapter as it comes: its upgrade request does not carry the address.
    const sync = createSyncServer({ auth: { required: false }, maxConnectionsPerIp: 1 })
    cleanups.push(() => sync.close())
    const ws = crossws({ hooks: createCrosswsHooks(sync) })
    const httpServer = createServer()
    httpServer.on('upgrade', (req, socket, head) => ws.handleUpgrade(req, socket, head))
    const url = await listening(httpServer, () => ws.close())
    const first = await client(url)
    first.send(CODES.auth, {})
    await first.next(withCode(CODES.auth_success))
    const second = await client(url)
    expect(await within(second.closed, 5_000, 'the second socket closing')).toEqual({
      code: 1008,
      reason: 'Too many connections from your IP',
    })
    expect(sync.stats().connections).toBe(1)
  })
})

describe('options', () => {
  it('refuses a malformed allowedOrigins entry at startup', () => {
    const bad: SyncServerOptions = { allowedOrigins: ['app.example.com'] }
    expect(() => createSyncServer(bad)).toThrow(/allowedOrigins: "app.example.com"/)
  })

  it('tells an old (credentials, request) authenticate hook to move to verifyCredentials', () => {
    const old = async (_credentials: unknown, _request: unknown) => null
    expect(() => createSyncServer({ auth: { authenticate: old as never } })).toThrow(
      /auth\.verifyCredentials/,
    )
  })
})
