import { afterEach, describe, expect, it, vi } from 'vitest'
import { ActivityTimers } from '../../adapters/cloudflare/activity-timers.js'
import { decodeScope, SCOPE_HEADER, scopedPolicy } from '../../adapters/cloudflare/scope.js'
import {
  createSyncWorker,
  type DurableObjectNamespace,
  routeByDocument,
  routeByRoom,
  routeToObject,
  type SyncWorkerOptions,
} from '../../adapters/cloudflare.js'
import { upgradeRequestOf } from '../../adapters/transport.js'
import type { AuthenticateRequest } from '../../src/auth/hooks.js'
import { signAccessToken } from '../../src/auth/tokens.js'
import type { AuthorizeRequest } from '../../src/engine/types.js'
import { type AuthOptions, createSyncServer } from '../../src/server/index.js'

/** The Worker's routing and early check, in Node with a recording namespace (no workerd needed). */

const SECRET = 'unit-test-secret-of-at-least-32-chars!'

interface Forwarded {
  object: string
  scope: unknown
  url: string
}

function recordingEnv(): { env: { SYNC: DurableObjectNamespace }; forwarded: Forwarded[] } {
  const forwarded: Forwarded[] = []
  const SYNC: DurableObjectNamespace = {
    idFromName: (name) => name,
    get: (id) => ({
      async fetch(request) {
        forwarded.push({
          object: String(id),
          scope: decodeScope(request.headers.get(SCOPE_HEADER)),
          url: request.url,
        })
        return new Response('from the object', { status: 200 })
      },
    }),
  }
  return { env: { SYNC }, forwarded }
}

const upgrade = (path: string, headers: Record<string, string> = {}): Request =>
  new Request(`https://sync.example${path}`, { headers: { upgrade: 'websocket', ...headers } })

async function run(
  options: Partial<SyncWorkerOptions<{ SYNC: DurableObjectNamespace }>>,
  request: Request,
): Promise<{ status: number; body: string; forwarded: Forwarded[] }> {
  const { env, forwarded } = recordingEnv()
  const response = await createSyncWorker({ binding: 'SYNC', ...options }).fetch(request, env)
  return { status: response.status, body: await response.text(), forwarded }
}

describe('createSyncWorker routes', () => {
  it('routeByDocument: one object per document, scoped to it; bad or missing ids are 400', async () => {
    const ok = await run({ route: routeByDocument() }, upgrade('/ws?doc=todo-1'))
    expect(ok.forwarded).toEqual([
      { object: 'doc:todo-1', scope: { document: 'todo-1' }, url: 'https://sync.example/ws?doc=todo-1' },
    ])
    const bad = await run({ route: routeByDocument() }, upgrade('/ws?doc=has%20space'))
    expect([bad.status, bad.body, bad.forwarded]).toEqual([
      400,
      '?doc=: Document ID contains invalid characters',
      [],
    ])
    expect((await run({}, upgrade('/ws'))).status).toBe(400) // routeByDocument is the default
  })

  it('routeByRoom: one object per room, scoped to its prefix; a room name with the separator is 400', async () => {
    const ok = await run({ route: routeByRoom() }, upgrade('/ws?room=team-1'))
    expect(ok.forwarded.map(({ object, scope }) => ({ object, scope }))).toEqual([
      { object: 'room:team-1', scope: { prefix: 'team-1:' } },
    ])
    const custom = await run({ route: routeByRoom({ param: 'r', separator: '.' }) }, upgrade('/ws?r=a'))
    expect(custom.forwarded[0]?.scope).toEqual({ prefix: 'a.' })
    expect((await run({ route: routeByRoom() }, upgrade('/ws?room=a:b'))).status).toBe(400)
  })

  it('routeToObject: everything in one object; a scope header sent by the client is replaced', async () => {
    const forged = upgrade('/ws', { [SCOPE_HEADER]: '{"prefix":""}' })
    const { forwarded } = await run({ route: routeToObject('main') }, forged)
    expect(forwarded.map(({ object, scope }) => ({ object, scope }))).toEqual([
      { object: 'main', scope: { all: true } },
    ])
    const byDocument = await run({}, upgrade('/ws?doc=a', { [SCOPE_HEADER]: '{"all":true}' }))
    expect(byDocument.forwarded[0]?.scope).toEqual({ document: 'a' })
  })

  it('upgrades elsewhere are 404; plain requests 426 on the path, 404 elsewhere, unless handleHttp', async () => {
    expect((await run({}, upgrade('/other?doc=a'))).status).toBe(404)
    expect((await run({}, new Request('https://sync.example/ws?doc=a'))).status).toBe(426)
    expect((await run({}, new Request('https://sync.example/health?doc=a'))).status).toBe(404)
    const health = await run({ handleHttp: true }, new Request('https://sync.example/health?doc=a'))
    expect(health.forwarded.map(({ object }) => object)).toEqual(['doc:a'])
  })

  it('names a binding that is not a namespace', async () => {
    const worker = createSyncWorker({ binding: 'MISSING' })
    await expect(worker.fetch(upgrade('/ws?doc=a'), {})).rejects.toThrow(
      /env\.MISSING is not a Durable Object/,
    )
  })
})

describe("createSyncWorker's early check", () => {
  const auth = () => ({ jwt: { secret: SECRET } })
  const token = () =>
    signAccessToken(
      { userId: 'u', permissions: { canRead: ['*'], canWrite: ['*'], isAdmin: false } },
      { secret: SECRET },
    )

  it('refuses missing or invalid credentials with 401 before any object', async () => {
    for (const request of [upgrade('/ws?doc=a'), upgrade('/ws?doc=a&token=x.y.z')]) {
      const refused = await run({ auth }, request)
      expect([refused.status, refused.forwarded]).toEqual([401, []])
    }
    const wrongKey = await signAccessToken(
      { userId: 'u', permissions: { canRead: ['*'], canWrite: ['*'], isAdmin: false } },
      { secret: 'another-secret-of-at-least-32-characters' },
    )
    expect((await run({ auth }, upgrade(`/ws?doc=a&token=${wrongKey}`))).status).toBe(401)
  })

  it('forwards an upgrade whose token verifies (query or Bearer header), credentials intact', async () => {
    const viaQuery = await run({ auth }, upgrade(`/ws?doc=a&token=${await token()}`))
    expect(viaQuery.forwarded).toHaveLength(1)
    expect(viaQuery.forwarded[0]?.url).toContain('token=')
    const viaHeader = await run({ auth }, upgrade('/ws?doc=a', { authorization: `Bearer ${await token()}` }))
    expect(viaHeader.forwarded).toHaveLength(1)
  })

  it('checks nothing for anonymous objects, and refuses when no verifier is configured', async () => {
    expect((await run({ auth: () => ({ required: false }) }, upgrade('/ws?doc=a'))).status).toBe(200)
    expect((await run({ auth: () => ({}) }, upgrade(`/ws?doc=a&token=${await token()}`))).status).toBe(401)
  })

  it('runs the authenticate hook: a session cookie is forwarded, none is refused with the JSON body', async () => {
    const cookieAuth = () => ({ authenticate: sessionHook })
    const admitted = await run({ auth: cookieAuth }, upgrade('/ws?doc=a', { cookie: 'session=alice' }))
    expect(admitted.forwarded).toHaveLength(1)
    for (const cookie of [undefined, 'session=mallory']) {
      const refused = await run({ auth: cookieAuth }, upgrade('/ws?doc=a', cookie ? { cookie } : {}))
      expect([refused.status, JSON.parse(refused.body), refused.forwarded]).toEqual([
        401,
        { error: { code: 'AUTH_FAILED', message: 'Authentication failed' } },
        [],
      ])
    }
    const failing = () => ({
      authenticate: () => {
        throw new Error('session store down')
      },
    })
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
    const unavailable = await run({ auth: failing }, upgrade('/ws?doc=a', { cookie: 'session=alice' }))
    expect([unavailable.status, JSON.parse(unavailable.body).error.code]).toEqual([503, 'AUTH_UNAVAILABLE'])
    expect(String(logged.mock.calls[0]?.[0])).toContain("authenticate failed in the Worker's early check")
    logged.mockRestore()
  })

  it("agrees with the object's upgrade check: it refuses only what the object refuses, or would leave to an auth message", async () => {
    const configs: Record<string, AuthOptions> = {
      jwt: { jwt: { secret: SECRET } },
      cookie: { authenticate: sessionHook },
      'cookie or jwt': { authenticate: sessionHook, jwt: { secret: SECRET } },
      'api keys': {
        apiKeys: [
          {
            key: 'api-key-number-1',
            userId: 'svc',
            permissions: { canRead: ['*'], canWrite: ['*'], isAdmin: false },
          },
        ],
      },
      anonymous: { required: false },
      'anonymous with a hook': { required: false, authenticate: sessionHook },
      nothing: {},
    }
    const servers = Object.fromEntries(
      Object.entries(configs).map(([name, auth]) => [name, createSyncServer({ auth, maxConnections: 1e6 })]),
    )
    try {
      const cookies = [undefined, 'session=alice', 'session=mallory', 'other=1']
      const tokens = [undefined, await token(), 'x.y.z']
      const apiKeys = [undefined, 'api-key-number-1', 'api-key-number-2']
      const outcomes = new Set<string>()
      // Every combination: 7 configurations × 4 cookies × 3 tokens × 3 API keys.
      for (const [config, auth] of Object.entries(configs)) {
        const server = servers[config]
        if (!server) throw new Error(config)
        for (const cookie of cookies)
          for (const jwt of tokens)
            for (const apiKey of apiKeys) {
              const headers: Record<string, string> = {}
              if (cookie) headers.cookie = cookie
              if (apiKey) headers['x-api-key'] = apiKey
              const path = `/ws?doc=a${jwt ? `&token=${jwt}` : ''}`
              const worker = await run({ auth: () => auth }, upgrade(path, headers))
              const object = await server.upgrade(upgradeRequestOf(upgrade(path, headers), undefined))
              const what = `${config}, ${JSON.stringify(headers)}, ${path}`
              if (worker.status === 200) {
                // Forwarded: the object admits it too, knowing who it is (unless anonymous).
                expect(object.ok, what).toBe(true)
                if (auth.required !== false) expect(object.ok && object.principal, what).toBeTruthy()
                outcomes.add('both admit')
              } else if (!object.ok) {
                expect([worker.status, worker.body], what).toEqual([object.status, object.body])
                outcomes.add(`both refuse ${object.status}`)
              } else {
                // The object would wait for an `auth` message; the Worker wants the identity now.
                expect([worker.status, object.principal], what).toEqual([401, undefined])
                outcomes.add('only the Worker refuses')
              }
            }
      }
      // The combinations reach every kind of outcome (the test cannot pass vacuously).
      expect([...outcomes].sort()).toEqual(['both admit', 'both refuse 401', 'only the Worker refuses'])
    } finally {
      await Promise.all(Object.values(servers).map((server) => server.close()))
    }
  })
})

/** A cookie hook: `session=alice` is a user, any other session is refused, no cookie too. */
function sessionHook({ cookies }: AuthenticateRequest) {
  if (cookies.session !== 'alice') return null
  return { userId: 'alice', permissions: { canRead: ['*'], canWrite: ['*'], isAdmin: false } }
}

describe('scopedPolicy', () => {
  const request = (documentId: string): AuthorizeRequest => ({
    principal: { userId: 'u', permissions: { canRead: ['*'], canWrite: ['*'], isAdmin: false } },
    action: 'read',
    documentId,
  })

  it('allows only documents of the scope, and nothing before a scope is known', () => {
    const room = scopedPolicy(() => ({ prefix: 'team-1:' }))
    expect(['team-1:a', 'team-1:', 'team-2:a', 'team-1'].map((id) => room(request(id)))).toEqual([
      true,
      true,
      false,
      false,
    ])
    const one = scopedPolicy(() => ({ document: 'a' }))
    expect([one(request('a')), one(request('ab'))]).toEqual([true, false])
    expect(scopedPolicy(() => undefined)(request('a'))).toBe(false)
  })

  it('still applies the app policy inside the scope', () => {
    const policy = scopedPolicy(
      () => ({ all: true }),
      ({ documentId }) => documentId !== 'secret',
    )
    expect([policy(request('open')), policy(request('secret'))]).toEqual([true, false])
  })
})

describe('ActivityTimers', () => {
  afterEach(() => vi.useRealTimers())

  it('runs due tasks on an event, keeps ticking two periods after the last one, then stops', () => {
    vi.useFakeTimers({ now: 1_000_000 })
    let work = false
    const timers = new ActivityTimers(() => work)
    const ticks: number[] = []
    timers.every(1_000, () => ticks.push(Date.now()))
    timers.wake() // a fresh object: the task is due at once
    expect(ticks).toHaveLength(1)
    vi.advanceTimersByTime(5_000)
    expect(ticks).toHaveLength(3) // the two periods after the event
    expect(timers.running).toBe(false) // idle: nothing scheduled, the object may hibernate

    timers.wake()
    work = true // e.g. presence that must expire
    vi.advanceTimersByTime(10_000)
    expect(timers.running).toBe(true)
    work = false
    vi.advanceTimersByTime(1_000)
    expect(timers.running).toBe(false)
  })

  it('runs a task at the next event only once its interval has passed, and never after stop()', () => {
    vi.useFakeTimers({ now: 1_000_000 })
    const timers = new ActivityTimers(() => false)
    const runs = { tick: 0, heartbeat: 0 }
    timers.every(1_000, () => runs.tick++)
    const heartbeat = timers.every(30_000, () => runs.heartbeat++)
    timers.wake()
    expect(runs).toEqual({ tick: 1, heartbeat: 1 })
    vi.advanceTimersByTime(500)
    timers.wake() // too soon for either
    expect(runs).toEqual({ tick: 1, heartbeat: 1 })
    vi.advanceTimersByTime(60_000)
    heartbeat.stop()
    timers.wake()
    expect(runs.heartbeat).toBe(1)
  })
})
