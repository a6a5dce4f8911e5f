import { afterEach, describe, expect, it } from 'vitest'
import { attachWebSocketServer } from '../../adapters/ws.js'
import { signAccessToken, signRefreshToken } from '../../src/auth/index.js'
import { createSyncServer } from '../../src/server/index.js'
import type { SyncServerOptions } from '../../src/server/options.js'
import { CODES, RawClient, withCode } from './server-client.js'

const SECRET = 'integration-secret-of-at-least-32-characters!'
const permissions = { canRead: ['room:*'], canWrite: ['room:alice:*'], isAdmin: false }

const stops: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop()
})

async function serve(options: SyncServerOptions = {}) {
  const server = createSyncServer({
    auth: { jwt: { secret: SECRET }, signing: { secret: SECRET } },
    tickIntervalMs: 50,
    ...options,
  })
  const transport = await attachWebSocketServer(server, { port: 0, host: '127.0.0.1' })
  stops.push(async () => {
    await server.close()
    await transport.close()
  })
  return { server, url: `ws://127.0.0.1:${transport.port}/ws`, http: `http://127.0.0.1:${transport.port}` }
}

async function connect(url: string): Promise<RawClient> {
  const client = await RawClient.connect(url)
  stops.push(async () => client.close())
  return client
}

describe('built-in JWT authentication over a real socket', () => {
  it('accepts a token in the auth message and enforces its permissions', async () => {
    const { url } = await serve()
    const token = await signAccessToken({ userId: 'alice', permissions }, { secret: SECRET })
    const client = await connect(url)
    client.send(CODES.auth, { id: 'a1', token })
    const success = await client.next(withCode(CODES.auth_success))
    expect(success.payload).toMatchObject({ userId: 'alice', permissions })
    client.send(CODES.subscribe, { documentId: 'secret-doc' })
    const denied = await client.next(withCode(CODES.error))
    expect(denied.payload).toMatchObject({
      error: 'Permission denied',
      details: { documentId: 'secret-doc' },
    })
    client.send(CODES.subscribe, { documentId: 'room:bob:1' })
    await client.next(withCode(CODES.sync_response))
  })

  it('accepts a token in the upgrade URL (?token=) before any frame', async () => {
    const { url } = await serve()
    const token = await signAccessToken({ userId: 'alice', permissions }, { secret: SECRET })
    const client = await connect(`${url}?token=${encodeURIComponent(token)}`)
    client.send(CODES.subscribe, { documentId: 'room:alice:1' })
    const response = await client.next(withCode(CODES.sync_response))
    expect(response.payload).toMatchObject({ documentId: 'room:alice:1' })
  })

  it('refuses forged, refresh and alg:none tokens with auth_error and close 1008', async () => {
    const { url } = await serve()
    const forged = await signAccessToken({ userId: 'mallory', permissions }, { secret: `${SECRET}-other` })
    const refresh = await signRefreshToken({ userId: 'alice', permissions }, { secret: SECRET })
    const header = btoa(JSON.stringify({ alg: 'none', typ: 'JWT' })).replace(/=+$/, '')
    const body = btoa(
      JSON.stringify({ userId: 'x', permissions: { ...permissions, isAdmin: true } }),
    ).replace(/=+$/, '')
    for (const token of [forged, refresh, `${header}.${body}.`]) {
      const client = await connect(url)
      client.send(CODES.auth, { token })
      const closed = await client.closed
      expect(closed).toEqual({ code: 1008, reason: 'Authentication failed' })
      expect(client.received.find(withCode(0x03))?.payload).toMatchObject({ error: 'Authentication failed' })
    }
  })

  it('tells an expired token TOKEN_EXPIRED and accepts a fresh one in band', async () => {
    const { url } = await serve({ limits: { authTimeoutMs: 5_000 } })
    // `exp` is whole seconds from a floored `iat`: a 1 s token can be expired before the server
    // verifies it on a loaded machine, so this one lives 3 s.
    const shortLived = await signAccessToken(
      { userId: 'alice', permissions },
      { secret: SECRET, expiresIn: 3 },
    )
    const client = await connect(url)
    client.send(CODES.auth, { token: shortLived })
    await client.next(withCode(CODES.auth_success))
    const expired = await client.next((f) => f.code === 0x03 && f.payload.error === 'Token expired', 8_000)
    expect(expired.payload).toMatchObject({ details: { code: 'TOKEN_EXPIRED' } })
    const fresh = await signAccessToken({ userId: 'alice', permissions }, { secret: SECRET })
    client.send(CODES.auth, { token: fresh })
    client.send(CODES.subscribe, { documentId: 'room:alice:2' })
    await client.next(withCode(CODES.sync_response), 5_000)
    expect(client.closeEvent).toBeUndefined()
  })

  it('closes an unauthenticated socket at the auth deadline', async () => {
    const { url } = await serve({ limits: { authTimeoutMs: 300 } })
    const client = await connect(url)
    expect(await client.closed).toEqual({ code: 1008, reason: 'Authentication timeout' })
  })

  it('revoke({userId}) closes that user everywhere at once', async () => {
    const { server, url } = await serve()
    const token = await signAccessToken({ userId: 'alice', permissions }, { secret: SECRET })
    const client = await connect(url)
    client.send(CODES.auth, { token })
    await client.next(withCode(CODES.auth_success))
    server.revoke({ userId: 'alice' })
    expect(await client.closed).toEqual({ code: 1008, reason: 'Access revoked' })
  })

  it('serves /auth/verify and /auth/me with the same verifier', async () => {
    const { http } = await serve()
    const token = await signAccessToken(
      { userId: 'alice', email: 'a@example.com', permissions },
      { secret: SECRET },
    )
    const verify = await fetch(`${http}/auth/verify`, { method: 'POST', body: JSON.stringify({ token }) })
    expect(await verify.json()).toMatchObject({ valid: true, userId: 'alice' })
    expect(verify.headers.get('x-content-type-options')).toBe('nosniff')
    const me = await fetch(`${http}/auth/me`, { headers: { Authorization: `Bearer ${token}` } })
    expect(await me.json()).toMatchObject({ userId: 'alice', email: 'a@example.com', permissions })
    const login = await fetch(`${http}/auth/login`, { method: 'POST', body: '{}' })
    expect(login.status).toBe(404)
  })
})

describe('API keys over a real socket', () => {
  it('maps a key to its own principal (not blanket admin)', async () => {
    const { url } = await serve({
      auth: {
        apiKeys: [
          {
            key: 'sk_live_0123456789',
            userId: 'svc',
            permissions: { canRead: ['*'], canWrite: [], isAdmin: false },
          },
        ],
      },
    })
    const client = await connect(url)
    client.send(CODES.auth, { apiKey: 'sk_live_0123456789' })
    expect((await client.next(withCode(CODES.auth_success))).payload).toMatchObject({ userId: 'svc' })
    client.send(CODES.delta, { documentId: 'doc', field: 'f', value: 1, messageId: 'm' })
    expect((await client.next(withCode(CODES.error))).payload).toMatchObject({ error: 'Permission denied' })
  })
})
