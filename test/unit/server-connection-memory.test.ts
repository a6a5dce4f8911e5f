/**
 * What an open connection keeps of its upgrade request: only what `verifyCredentials` can read
 * later, since headers are most of a connection's heap beyond its socket.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createAuthenticator } from '../../src/auth/authenticator.js'
import type { RequestLike } from '../../src/auth/hooks.js'
import type { Principal } from '../../src/engine/types.js'
import { retainedRequest } from '../../src/server/connection.js'
import { createSyncServer, type SyncServer } from '../../src/server/index.js'
import { FakeSocket, frame, turns, waitFor } from './server-fakes.js'

const API_KEY = 'k'.repeat(40)
const PERMS = { canRead: ['*'], canWrite: ['*'], isAdmin: false }
const request = {
  remoteAddress: '10.0.0.1',
  url: '/ws?room=1',
  headers: {
    host: 'example.test',
    'user-agent': 'x'.repeat(500),
    cookie: 'session=abc',
    authorization: 'Bearer t0ken',
    'x-api-key': API_KEY,
  },
}

const servers: SyncServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

describe('retainedRequest', () => {
  it('keeps nothing when no hook can read the request later', () => {
    expect(retainedRequest(undefined, request)).toBeUndefined()
  })

  it('keeps only the credential-bearing parts for the built-in authenticator', () => {
    const hook = createAuthenticator({ apiKeys: [{ key: API_KEY, userId: 'u', permissions: PERMS }] })
    expect(retainedRequest(hook, request)).toEqual({
      headers: { authorization: 'Bearer t0ken', 'x-api-key': API_KEY },
    })
    expect(retainedRequest(hook, { url: '/ws?token=abc', headers: { host: 'h' } })).toEqual({
      url: '/ws?token=abc',
    })
    expect(retainedRequest(hook, { url: '/ws', headers: { host: 'h' } })).toBeUndefined()
  })

  it('keeps the whole request for a hook of the caller (or an authenticator whose onError sees it)', () => {
    const own = async (): Promise<Principal | null> => null
    expect(retainedRequest(own, request)).toBe(request)
    const logging = createAuthenticator({ apiKeys: [], onError: () => {} })
    expect(retainedRequest(logging, request)).toBe(request)
  })
})

describe('a connection after open', () => {
  it("still hands the caller's verifyCredentials every header of the upgrade on a later auth", async () => {
    const seen: RequestLike[] = []
    const sync = createSyncServer({
      auth: {
        required: true,
        verifyCredentials: async (credentials, req) => {
          seen.push(req)
          return credentials.token === 'good' ? { userId: 'u', permissions: PERMS } : null
        },
      },
    })
    servers.push(sync)
    const socket = new FakeSocket()
    // No credentials on the upgrade: the connection waits for an `auth` message.
    const { authorization: _a, 'x-api-key': _k, ...headers } = request.headers
    const handle = sync.handleConnection(socket, { ...request, headers })
    await turns()
    handle.receive(frame('auth', { token: 'good' }))
    await waitFor(() => socket.ofType('auth_success').length > 0)
    const last = seen.at(-1)
    expect((last?.headers as Record<string, string> | undefined)?.cookie).toBe('session=abc')
  })

  it('authenticates from the upgrade credentials with the built-in authenticator', async () => {
    const sync = createSyncServer({
      auth: { required: true, apiKeys: [{ key: API_KEY, userId: 'svc', permissions: PERMS }] },
    })
    servers.push(sync)
    const socket = new FakeSocket()
    sync.handleConnection(socket, { remoteAddress: '10.0.0.1', headers: { 'x-api-key': API_KEY } })
    await waitFor(() => socket.ofType('auth_success').length > 0)
    expect(socket.closedWith).toBeUndefined()
  })
})
