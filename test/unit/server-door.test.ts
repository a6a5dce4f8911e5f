import { afterEach, describe, expect, it } from 'vitest'
import type { Principal } from '../../src/engine/types.js'
import { createSyncServer, type SyncServer, type SyncServerOptions } from '../../src/server/index.js'
import { FakeSocket, frame, waitFor } from './server-fakes.js'

const alice: Principal = { userId: 'alice', permissions: { canRead: ['*'], canWrite: ['*'], isAdmin: false } }

const servers: SyncServer[] = []
function server<C = unknown>(options: SyncServerOptions<C> = {}): SyncServer<C> {
  const created = createSyncServer<C>(options)
  servers.push(created as SyncServer)
  return created
}
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close()
})

describe('sync.upgrade reserves a connection slot', () => {
  it('counts an admitted upgrade against the caps until its socket opens', async () => {
    const sync = server({ auth: { required: false }, maxConnections: 1 })
    const first = await sync.upgrade({ remoteAddress: '10.0.0.1' })
    expect(first.ok).toBe(true)
    const second = await sync.upgrade({ remoteAddress: '10.0.0.2' })
    expect(second).toMatchObject({ ok: false, status: 503, error: { code: 'SERVER_AT_CAPACITY' } })
    // The admitted socket takes its slot, even though the server is "full" with it.
    const socket = new FakeSocket()
    const handle = sync.handleConnection(socket, { remoteAddress: '10.0.0.1' }, first.ok ? first : undefined)
    expect(handle.id).not.toBe('')
    expect(socket.closedWith).toBeUndefined()
    expect(sync.stats().connections).toBe(1)
    // The slot was consumed, not doubled: one more upgrade is still refused.
    expect((await sync.upgrade({ remoteAddress: '10.0.0.3' })).ok).toBe(false)
    handle.closed()
    expect((await sync.upgrade({ remoteAddress: '10.0.0.3' })).ok).toBe(true)
  })

  it('applies the per-IP cap when the socket opens, if the upgrade did not know the address', async () => {
    const sync = server({ auth: { required: false }, maxConnectionsPerIp: 1 })
    const sockets = [new FakeSocket(), new FakeSocket()]
    for (const socket of sockets) {
      const admission = await sync.upgrade({}) // e.g. crossws's Node adapter: no address yet
      sync.handleConnection(socket, { remoteAddress: '10.0.0.1' }, admission.ok ? admission : undefined)
    }
    expect(sockets.map((socket) => socket.closedWith)).toEqual([
      undefined,
      { code: 1008, reason: 'Too many connections from your IP' },
    ])
    expect(sync.stats().connections).toBe(1)
  })

  it('releases a slot nobody used after the auth timeout', async () => {
    const sync = server({
      auth: { required: false },
      maxConnectionsPerIp: 1,
      limits: { authTimeoutMs: 50 },
      tickIntervalMs: 10,
    })
    expect((await sync.upgrade({ remoteAddress: '10.0.0.1' })).ok).toBe(true)
    expect(await sync.upgrade({ remoteAddress: '10.0.0.1' })).toMatchObject({ ok: false, status: 429 })
    let admitted = false
    const deadline = Date.now() + 2_000
    while (!admitted && Date.now() < deadline) {
      admitted = (await sync.upgrade({ remoteAddress: '10.0.0.1' })).ok
      if (!admitted) await new Promise((resolve) => setTimeout(resolve, 10))
    }
    expect(admitted).toBe(true)
  })

  it('holds the slot while a slow hook decides, so concurrent upgrades cannot exceed the cap', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const sync = server({
      maxConnections: 1,
      auth: {
        authenticate: async () => {
          await gate
          return alice
        },
      },
    })
    const slow = sync.upgrade({ remoteAddress: '10.0.0.1' })
    expect(await sync.upgrade({ remoteAddress: '10.0.0.2' })).toMatchObject({ ok: false, status: 503 })
    release()
    expect(await slow).toMatchObject({ ok: true, principal: alice })
  })

  it('refuses with 503 while shutting down', async () => {
    const sync = server({ auth: { required: false } })
    await sync.close()
    expect(await sync.upgrade({})).toMatchObject({
      ok: false,
      status: 503,
      error: { code: 'SERVER_SHUTTING_DOWN' },
    })
  })

  it('answers a throwing or hanging hook with 503 AUTH_UNAVAILABLE and reports it', async () => {
    const errors: string[] = []
    const throwing = server({
      auth: {
        authenticate: () => {
          throw new Error('session store down')
        },
      },
    })
    throwing.on('error', (error, context) => errors.push(`${context.operation}: ${error.message}`))
    expect(await throwing.upgrade({})).toMatchObject({ status: 503, error: { code: 'AUTH_UNAVAILABLE' } })
    const hanging = server({
      limits: { authTimeoutMs: 30 },
      auth: { authenticate: () => new Promise(() => {}) },
    })
    hanging.on('error', (error, context) => errors.push(`${context.operation}: ${error.message}`))
    expect(await hanging.upgrade({})).toMatchObject({ status: 503, error: { code: 'AUTH_UNAVAILABLE' } })
    expect(errors).toEqual([
      'authenticate: session store down',
      'authenticate: authenticate did not answer within 30 ms',
    ])
  })

  it('defers to the built-in check when the hook answers undefined, keeping its context', async () => {
    const sync = server({
      auth: {
        authenticate: ({ url }) => ({ context: { room: new URL(url, 'http://x').searchParams.get('room') } }),
        verifyCredentials: async ({ token }) => (token === 'good' ? alice : null),
      },
    })
    expect(await sync.upgrade({ url: '/ws?room=7' })).toEqual({ ok: true, context: { room: '7' } })
    expect(await sync.upgrade({ url: '/ws?room=7&token=good' })).toEqual({
      ok: true,
      principal: alice,
      context: { room: '7' },
    })
    expect(await sync.upgrade({ url: '/ws?token=bad' })).toMatchObject({ ok: false, status: 401 })
  })

  it('sees headers, cookies, the URL and the client address', async () => {
    const seen: unknown[] = []
    const sync = server({
      trustProxy: false,
      auth: {
        authenticate: (request) => {
          seen.push(request.headers.get('x-app'), request.cookies, request.url, request.ip)
          return undefined
        },
      },
    })
    await sync.upgrade({
      remoteAddress: '::ffff:10.1.2.3',
      url: '/ws?a=1',
      headers: { 'X-App': 'web', cookie: 'sid=abc%20def; theme=dark; sid=second' },
    })
    expect(seen).toEqual(['web', { sid: 'abc def', theme: 'dark' }, '/ws?a=1', '10.1.2.3'])
  })
})

describe('handleConnection without an upgrade check (custom transports)', () => {
  it('runs the authenticate hook, holding frames until it answers', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const sync = server({
      auth: {
        authenticate: async ({ cookies }) => {
          await gate
          return cookies.sid === 'ok' ? { principal: alice, context: { plan: 'pro' } } : null
        },
      },
    })
    const contexts: unknown[] = []
    sync.on('subscribed', (event) => contexts.push(event.context))
    const socket = new FakeSocket()
    const handle = sync.handleConnection(socket, { headers: { cookie: 'sid=ok' } })
    handle.receive(frame('subscribe', { documentId: 'doc' }))
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(socket.frames).toEqual([])
    release()
    await waitFor(() => socket.ofType('sync_response').length === 1)
    expect(contexts).toEqual([{ plan: 'pro' }])
  })

  it('keeps the close codes of a refusal after the handshake', async () => {
    const cases: [SyncServerOptions, { code: number; reason: string }][] = [
      [{ auth: { authenticate: () => null } }, { code: 1008, reason: 'Authentication failed' }],
      [
        {
          auth: {
            authenticate: () => {
              throw new Error('down')
            },
          },
        },
        { code: 1011, reason: 'Authentication unavailable' },
      ],
      [
        { auth: { required: false }, allowedOrigins: ['https://a.example'] },
        { code: 1008, reason: 'Origin not allowed' },
      ],
    ]
    for (const [options, expected] of cases) {
      const sync = server(options)
      sync.on('error', () => {})
      const socket = new FakeSocket()
      sync.handleConnection(socket, { headers: { origin: 'https://b.example' } })
      await waitFor(() => socket.closedWith !== undefined)
      expect(socket.closedWith).toEqual(expected)
    }
  })

  it('bounds the frames held while the hook decides', async () => {
    const sync = server({
      limits: { maxPreAuthFrames: 3 },
      auth: { authenticate: () => new Promise(() => {}) },
    })
    const socket = new FakeSocket()
    const handle = sync.handleConnection(socket, {})
    for (let i = 0; i < 4; i++) handle.receive(frame('ping'))
    expect(socket.closedWith).toEqual({ code: 1008, reason: 'Too many messages before authentication' })
  })

  it('trusts a principal and context the host passes, skipping the hook', async () => {
    const sync = server({ auth: { authenticate: () => null } })
    const socket = new FakeSocket()
    const handle = sync.handleConnection(socket, {}, { principal: alice, context: { via: 'host' } })
    handle.receive(frame('auth', {}))
    await waitFor(() => socket.ofType('auth_success').length === 1)
    expect(socket.ofType('auth_success')[0]?.userId).toBe('alice')
  })
})

describe('allowedOrigins', () => {
  it('matches exact origins, subdomain wildcards and functions; requests without Origin pass', async () => {
    const check = async (allowedOrigins: SyncServerOptions['allowedOrigins'], origin?: string) => {
      const sync = server({ auth: { required: false }, allowedOrigins })
      return (await sync.upgrade(origin ? { headers: { origin } } : {})).ok
    }
    const list = ['https://app.example.com', 'https://*.example.org:8443']
    expect(await check(list, 'https://app.example.com')).toBe(true)
    expect(await check(list, 'HTTPS://APP.EXAMPLE.COM')).toBe(true)
    expect(await check(list, 'https://app.example.com.evil.net')).toBe(false)
    expect(await check(list, 'http://app.example.com')).toBe(false)
    expect(await check(list, 'https://a.b.example.org:8443')).toBe(true)
    expect(await check(list, 'https://example.org:8443')).toBe(false)
    expect(await check(list, 'https://evilexample.org:8443')).toBe(false)
    expect(await check(list, 'https://a.example.org')).toBe(false)
    expect(await check(list, 'null')).toBe(false)
    expect(await check(list)).toBe(true)
    expect(await check(['*'], 'https://anything.test')).toBe(true)
    expect(await check((origin) => origin.endsWith('.test'), 'https://x.test')).toBe(true)
    expect(
      await check(() => {
        throw new Error('bug')
      }, 'https://x.test'),
    ).toBe(false)
  })
})
