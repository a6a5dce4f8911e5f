import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { attachWebSocketServer } from '../../adapters/ws.js'
import { signAccessToken } from '../../src/auth/tokens.js'
import { createSyncClient } from '../../src/client/index.js'
import type { SyncClient } from '../../src/client/types.js'
import { createSyncServer, type SyncServer, type SyncServerOptions } from '../../src/server/index.js'
import { consoleLogger } from '../../src/server/logger.js'
import type { StaticFiles } from '../../src/server/static-files.js'
import { MemoryStore } from '../../src/storage/memory-store.js'
import { waitFor } from '../helpers/wait-for.js'

/** `/inspector/api` through `sync.fetch`: who may use it, what it answers, what its actions do. */

const SECRET = 'inspector-test-secret-0123456789-abcdef'
const ADMIN_KEY = 'inspector-admin-key-0123'
const USER_KEY = 'inspector-alice-key-0123'
const everything = { canRead: ['*'], canWrite: ['*'] }
const PAGE: StaticFiles = (path) =>
  path === '/inspector'
    ? { body: '<!doctype html><title>inspector</title>', contentType: 'text/html' }
    : undefined

const servers: SyncServer[] = []
const cleanups: (() => Promise<void> | void)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

function server(options: SyncServerOptions = {}): SyncServer {
  const created = createSyncServer({
    auth: {
      jwt: { secret: SECRET },
      apiKeys: [
        { key: ADMIN_KEY, userId: 'ops', permissions: { ...everything, isAdmin: true } },
        { key: USER_KEY, userId: 'alice', permissions: { ...everything, isAdmin: false } },
      ],
    },
    http: { inspector: true, staticFiles: PAGE },
    ...options,
  })
  servers.push(created)
  return created
}

function call(
  sync: SyncServer,
  path: string,
  options: { bearer?: string; method?: string; body?: unknown; type?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = {}
  if (options.bearer) headers.Authorization = `Bearer ${options.bearer}`
  if (options.body !== undefined) headers['Content-Type'] = options.type ?? 'application/json'
  const init: RequestInit = {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
  }
  if (options.body !== undefined) init.body = JSON.stringify(options.body)
  return sync.fetch(new Request(`http://localhost/inspector/api/${path}`, init))
}

async function listen(sync: SyncServer): Promise<string> {
  const transport = await attachWebSocketServer(sync, { port: 0, host: '127.0.0.1' })
  cleanups.push(() => transport.close())
  return `ws://127.0.0.1:${transport.port}/ws`
}

async function client(url: string, apiKey: string): Promise<SyncClient> {
  const created = createSyncClient({ url, WebSocket, apiKey, reconnect: false })
  cleanups.push(() => created.close())
  await created.connect()
  return created
}

describe('the inspector API: access', () => {
  it('answers an admin API key or JWT; refuses others with 401 or 403, and shows them nothing', async () => {
    const sync = server()
    const adminJwt = await signAccessToken(
      { userId: 'root', permissions: { ...everything, isAdmin: true } },
      { secret: SECRET },
    )
    const userJwt = await signAccessToken(
      { userId: 'bob', permissions: { ...everything, isAdmin: false } },
      { secret: SECRET },
    )
    for (const bearer of [ADMIN_KEY, adminJwt]) {
      const response = await call(sync, 'stats', { bearer })
      expect(response.status).toBe(200)
      expect((await response.json()).nodeId).toBe(sync.nodeId)
      expect(response.headers.get('x-content-type-options')).toBe('nosniff')
      expect(response.headers.get('cache-control')).toBe('no-store')
    }
    for (const bearer of [USER_KEY, userJwt]) {
      for (const path of ['stats', 'documents', 'document?id=doc']) {
        const response = await call(sync, path, { bearer })
        expect(response.status).toBe(403)
        expect(Object.keys(await response.json())).toEqual(['error'])
      }
      expect((await call(sync, 'evict', { bearer, body: { documentId: 'doc' } })).status).toBe(403)
      expect((await call(sync, 'revoke', { bearer, body: { userId: 'ops' } })).status).toBe(403)
    }
    const none = await call(sync, 'stats')
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="synckit"')
    expect((await call(sync, 'stats', { bearer: 'not-a-known-key-at-all' })).status).toBe(401)
  })

  it('is open in anonymous mode, and is not there at all unless http.inspector is on', async () => {
    const anonymous = server({ auth: { required: false }, http: { inspector: true, staticFiles: PAGE } })
    expect((await call(anonymous, 'stats')).status).toBe(200)
    // Anonymous connections that may not write everything do not make the inspector open.
    const narrow = server({
      auth: {
        required: false,
        anonymousPermissions: { canRead: ['public:*'], canWrite: [], isAdmin: false },
        apiKeys: [{ key: ADMIN_KEY, userId: 'ops', permissions: { ...everything, isAdmin: true } }],
      },
      http: { inspector: true, staticFiles: PAGE },
    })
    expect((await call(narrow, 'stats')).status).toBe(401)
    expect((await call(narrow, 'stats', { bearer: ADMIN_KEY })).status).toBe(200)
    const off = server({ auth: { required: false }, http: { staticFiles: PAGE } })
    expect((await call(off, 'stats')).status).toBe(404)
    const page = await off.fetch(
      new Request('http://localhost/inspector', { headers: { Accept: 'text/html' } }),
    )
    expect(page.status).toBe(404)
    const on = await anonymous.fetch(new Request('http://localhost/inspector'))
    expect(on.status).toBe(200)
    expect(on.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(() => createSyncServer({ http: { inspector: 'yes' as unknown as boolean } })).toThrow(
      /http\.inspector: expected true or false/,
    )
  })

  it('takes actions only as JSON POSTs (a cross-site form cannot send them) and checks their input', async () => {
    const sync = server()
    const bearer = ADMIN_KEY
    expect((await call(sync, 'evict', { bearer })).status).toBe(405)
    expect((await call(sync, 'stats', { bearer, method: 'POST', body: {} })).status).toBe(405)
    const form = await call(sync, 'revoke', { bearer, body: { userId: 'alice' }, type: 'text/plain' })
    expect(form.status).toBe(415)
    expect((await call(sync, 'evict', { bearer, body: { documentId: '' } })).status).toBe(400)
    expect((await call(sync, 'disconnect', { bearer, body: {} })).status).toBe(400)
    expect((await call(sync, 'documents?limit=0', { bearer })).status).toBe(400)
    expect((await call(sync, 'documents?prefix=%20bad', { bearer })).status).toBe(400)
    expect((await call(sync, 'document?id=', { bearer })).status).toBe(400)
    expect((await call(sync, 'document?id=missing', { bearer })).status).toBe(404)
    expect((await call(sync, 'nothing-here', { bearer })).status).toBe(404)
  })
})

describe('the inspector API: data and actions', () => {
  it('lists documents by prefix, a page at a time, and shows one with its registers, subscribers and presence', async () => {
    const sync = server({ nodeId: 'node-x' })
    const url = await listen(sync)
    const alice = await client(url, USER_KEY)
    await alice.subscribe('room:1')
    await alice.setMany('room:1', { title: 'Hello', count: 2 })
    await alice.set('room:1', 'gone', true)
    await alice.delete('room:1', 'gone')
    for (const id of ['room:2', 'room:3', 'other']) await alice.set(id, 'f', 1)
    alice.awareness('room:1').set({ name: 'Alice' })
    await waitFor(() => sync.stats().awarenessClients === 1, { message: 'presence arrived' })

    const first = await (await call(sync, 'documents?prefix=room:&limit=2', { bearer: ADMIN_KEY })).json()
    expect(first).toEqual({
      documents: [
        { id: 'room:1', loaded: true, subscribers: 1 },
        { id: 'room:2', loaded: true, subscribers: 1 }, // a write subscribes the client
      ],
      next: 'room:2',
      source: 'store',
    })
    const second = await (
      await call(sync, 'documents?prefix=room:&limit=2&after=room:2', { bearer: ADMIN_KEY })
    ).json()
    expect(second.documents.map((row: { id: string }) => row.id)).toEqual(['room:3'])
    expect(second.next).toBeUndefined()

    const doc = await (await call(sync, 'document?id=room:1', { bearer: ADMIN_KEY })).json()
    expect(doc.loaded).toBe(true)
    expect(
      doc.fields.map((f: { field: string; value: unknown; deleted: boolean; nodeId: string }) => [
        f.field,
        f.value,
        f.deleted,
        f.nodeId,
      ]),
    ).toEqual([
      ['count', 2, false, 'node-x'],
      ['gone', null, true, 'node-x'],
      ['title', 'Hello', false, 'node-x'],
    ])
    for (const field of doc.fields) expect(Math.abs(field.updatedAt - Date.now())).toBeLessThan(60_000)
    expect(doc.clock).toEqual({ 'node-x': 4 })
    expect(doc.subscribers).toEqual([
      { connectionId: expect.any(String), userId: 'alice', format: 'binary', dialect: 'sdk' },
    ])
    expect(doc.presence).toEqual([
      { clientId: expect.any(String), state: { name: 'Alice' }, userId: 'alice' },
    ])
    expect(doc.evictionBlocker).toBe('subscribed')
  })

  it('evicts a document nobody watches (reloaded from the store with every write), disconnects, revokes', async () => {
    const sync = server()
    const url = await listen(sync)
    const writer = await client(url, USER_KEY)
    await writer.set('doc', 'title', 'durable')
    writer.close()
    await waitFor(() => sync.stats().connections === 0, { message: 'the writer left' })
    const evict = await call(sync, 'evict', { bearer: ADMIN_KEY, body: { documentId: 'doc' } })
    expect(await evict.json()).toEqual({ evicted: true })
    expect(sync.documentState('doc')).toBeUndefined()
    const again = await call(sync, 'evict', { bearer: ADMIN_KEY, body: { documentId: 'doc' } })
    expect([again.status, await again.json()]).toEqual([404, { evicted: false, reason: 'not-loaded' }])
    const stored = await (await call(sync, 'document?id=doc', { bearer: ADMIN_KEY })).json()
    expect([stored.loaded, stored.fields[0].value]).toEqual([false, 'durable'])

    const alice = await client(url, USER_KEY)
    await alice.subscribe('doc')
    expect(alice.get('doc')).toEqual({ title: 'durable' })
    const busy = await call(sync, 'evict', { bearer: ADMIN_KEY, body: { documentId: 'doc' } })
    expect([busy.status, await busy.json()]).toEqual([409, { evicted: false, reason: 'subscribed' }])

    const [subscriber] = (await (await call(sync, 'document?id=doc', { bearer: ADMIN_KEY })).json())
      .subscribers
    const closed = new Promise<void>((resolve) => sync.once('disconnect', () => resolve()))
    const cut = await call(sync, 'disconnect', {
      bearer: ADMIN_KEY,
      body: { connectionId: subscriber.connectionId },
    })
    expect(await cut.json()).toEqual({ disconnected: true })
    await closed
    expect(
      (await call(sync, 'disconnect', { bearer: ADMIN_KEY, body: { connectionId: 'conn-x' } })).status,
    ).toBe(404)

    const aliceAgain = await client(url, USER_KEY)
    await aliceAgain.set('doc', 'x', 1)
    const revoked = new Promise<{ userId?: string }>((resolve) => sync.once('disconnect', resolve))
    const revoke = await call(sync, 'revoke', { bearer: ADMIN_KEY, body: { userId: 'alice' } })
    expect(await revoke.json()).toEqual({ revoked: true })
    expect((await revoked).userId).toBe('alice')
    await waitFor(() => sync.stats().connections === 0, { message: 'revoked user disconnected' })
  })

  it('lists the documents in memory when the store cannot list, and answers 503 when the store fails', async () => {
    const memory = new MemoryStore()
    let failing = false
    const sync = server({
      logger: consoleLogger({ level: 'silent' }), // the failure is expected; the event is checked
      store: {
        load: (id) => (failing ? Promise.reject(new Error('disk on fire')) : memory.load(id)),
        save: (documents) => memory.save(documents),
      },
    })
    const url = await listen(sync)
    const writer = await client(url, USER_KEY)
    await writer.set('b', 'f', 1)
    await writer.set('a', 'f', 1)
    const listing = await (await call(sync, 'documents?prefix=', { bearer: ADMIN_KEY })).json()
    expect(listing).toEqual({
      documents: [
        { id: 'a', loaded: true, subscribers: 1 },
        { id: 'b', loaded: true, subscribers: 1 },
      ],
      source: 'memory',
    })
    failing = true
    const reported: unknown[] = []
    sync.on('error', (error, context) => reported.push([error.message, context]))
    const failed = await call(sync, 'document?id=elsewhere', { bearer: ADMIN_KEY })
    expect([failed.status, await failed.json()]).toEqual([503, { error: 'The store failed' }])
    expect(reported).toEqual([['disk on fire', { operation: 'load', documentId: 'elsewhere' }]])
  })
})
