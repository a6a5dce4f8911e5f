import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createSyncClient } from '../../src/client/index.js'
import { createSyncServer } from '../../src/server/index.js'
import {
  ADMIN_KEY,
  apiKey,
  bearer,
  JSON_BODY,
  READER_KEY,
  type RestServer,
  startRestServer,
  tokenFor,
} from '../helpers/rest-server.js'
import { waitFor, within } from '../helpers/wait-for.js'

/** The REST API over real HTTP (the ws adapter's node:http server), with real JWTs and API keys. */

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function call(
  server: RestServer,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: BodyInit,
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const init: RequestInit & { duplex?: 'half' } = { method, headers }
  if (body !== undefined) init.body = body
  if (body instanceof ReadableStream) init.duplex = 'half'
  const response = await fetch(`${server.http}${path}`, init)
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined }
}

const patch = (server: RestServer, id: string, change: unknown, headers: Record<string, string>) =>
  call(
    server,
    'PATCH',
    `/v1/documents/${encodeURIComponent(id)}`,
    { ...headers, ...JSON_BODY },
    JSON.stringify(change),
  )

const errorCode = (body: unknown) => (body as { error: { code: string } }).error.code

describe('REST API: authentication', () => {
  it('reads and writes with a JWT, within the token permissions', async () => {
    const server = await startRestServer(cleanups)
    const writer = bearer(await tokenFor('alice', { canWrite: ['notes:*'] }))
    const actors: unknown[] = []
    server.sync.on('document-change', (event) => actors.push(event.actor))
    const written = await patch(server, 'notes:1', { set: { title: 'Hello', n: 1 } }, writer)
    expect(written.status).toBe(200)
    expect(actors).toEqual([{ kind: 'server', name: 'alice' }])
    expect(written.body).toMatchObject({ id: 'notes:1', fields: { title: 'Hello', n: 1 } })
    const read = await call(server, 'GET', '/v1/documents/notes%3A1', writer)
    expect(read.status).toBe(200)
    expect(read.body).toMatchObject({ id: 'notes:1', fields: { title: 'Hello', n: 1 } })
    const deleted = await patch(server, 'notes:1', { delete: ['n'] }, writer)
    expect((deleted.body as { fields: unknown }).fields).toEqual({ title: 'Hello' })

    const elsewhere = await call(server, 'GET', '/v1/documents/secrets', writer)
    expect(elsewhere.status).toBe(403)
    expect(errorCode(elsewhere.body)).toBe('PERMISSION_DENIED')
  })

  it('reads and writes with an API key; ?meta=1 shows every register with its stamp', async () => {
    const server = await startRestServer(cleanups)
    expect((await patch(server, 'k', { set: { a: 1, b: 2 } }, apiKey(ADMIN_KEY))).status).toBe(200)
    expect((await patch(server, 'k', { delete: ['b'] }, apiKey(ADMIN_KEY))).status).toBe(200)
    const read = await call(server, 'GET', '/v1/documents/k?meta=1', apiKey(ADMIN_KEY))
    expect(read.status).toBe(200)
    const view = read.body as { fields: unknown; meta: Record<string, { value: unknown; deleted: boolean }> }
    expect(view.fields).toEqual({ a: 1 })
    expect(view.meta.a).toMatchObject({ value: 1, deleted: false })
    expect(view.meta.b).toMatchObject({ value: null, deleted: true })
  })

  it('refuses a reader a write (403) and lets it read', async () => {
    const server = await startRestServer(cleanups)
    await patch(server, 'shared', { set: { x: 1 } }, apiKey(ADMIN_KEY))
    const refused = await patch(server, 'shared', { set: { x: 2 } }, apiKey(READER_KEY))
    expect(refused.status).toBe(403)
    expect(errorCode(refused.body)).toBe('PERMISSION_DENIED')
    const token = bearer(await tokenFor('bob', { canRead: ['shared'] }))
    expect((await patch(server, 'shared', { set: { x: 3 } }, token)).status).toBe(403)
    const read = await call(server, 'GET', '/v1/documents/shared', token)
    expect(read.status).toBe(200)
    expect(read.body).toMatchObject({ fields: { x: 1 } })
  })

  it('401 without credentials or with bad ones, with a Bearer challenge', async () => {
    const server = await startRestServer(cleanups)
    const none = await call(server, 'GET', '/v1/documents/a')
    expect(none.status).toBe(401)
    expect(errorCode(none.body)).toBe('AUTH_REQUIRED')
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="synckit"')
    const bad = await call(server, 'GET', '/v1/documents/a', bearer('not-a-jwt'))
    expect(bad.status).toBe(401)
    expect(errorCode(bad.body)).toBe('AUTH_FAILED')
    expect(bad.headers.get('www-authenticate')).toContain('invalid_token')
    const badKey = await call(
      server,
      'PATCH',
      '/v1/documents/a',
      { ...apiKey('wrong-key-0123456789'), ...JSON_BODY },
      '{}',
    )
    expect(badKey.status).toBe(401)
  })

  it('takes the principal and context of auth.authenticate (cookie sessions) to the policy', async () => {
    const seen: unknown[] = []
    const server = await startRestServer(cleanups, {
      auth: {
        authenticate: ({ cookies }) =>
          cookies.session === 'good'
            ? {
                principal: {
                  userId: 'carol',
                  permissions: { canRead: ['*'], canWrite: ['*'], isAdmin: false },
                },
                context: { tenant: 't1' },
              }
            : cookies.session === undefined
              ? undefined
              : null,
        authorize: ({ principal, action, context }) => {
          seen.push(context)
          return (
            principal.userId === 'carol' &&
            (action === 'read' || (context as { tenant?: string })?.tenant === 't1')
          )
        },
      },
    })
    const written = await patch(server, 'c', { set: { v: 1 } }, { cookie: 'session=good' })
    expect(written.status).toBe(200)
    expect(seen).toContainEqual({ tenant: 't1' })
    expect((await call(server, 'GET', '/v1/documents/c', { cookie: 'session=stolen' })).status).toBe(401)
  })
})

describe('REST API: the door', () => {
  it('refuses an origin allowedOrigins does not list, and a token in the query string', async () => {
    const server = await startRestServer(cleanups, { allowedOrigins: ['https://app.example'] })
    const admin = apiKey(ADMIN_KEY)
    const foreign = await call(server, 'GET', '/v1/documents/a', { ...admin, origin: 'https://evil.example' })
    expect(foreign.status).toBe(403)
    expect(errorCode(foreign.body)).toBe('ORIGIN_NOT_ALLOWED')
    const own = await call(
      server,
      'PATCH',
      '/v1/documents/a',
      { ...admin, ...JSON_BODY, origin: 'https://app.example' },
      '{"set":{"a":1}}',
    )
    expect(own.status).toBe(200)
    const token = await tokenFor('t', { canRead: ['*'] })
    const inQuery = await call(server, 'GET', `/v1/documents/a?token=${token}`)
    expect(inQuery.status).toBe(400)
    expect((inQuery.body as { error: { message: string } }).error.message).toContain('Authorization header')
  })
})

describe('REST API: admin routes', () => {
  it('lists and deletes for an admin only', async () => {
    const server = await startRestServer(cleanups)
    for (const id of ['p:1', 'p:2', 'p:3', 'q:1']) {
      expect((await patch(server, id, { set: { v: id } }, apiKey(ADMIN_KEY))).status).toBe(200)
    }
    const writer = bearer(await tokenFor('w', { canWrite: ['*'] }))
    const notAdmin = await call(server, 'GET', '/v1/documents', writer)
    expect(notAdmin.status).toBe(403)
    expect((await call(server, 'DELETE', '/v1/documents/p:1', writer)).status).toBe(403)

    const first = await call(server, 'GET', '/v1/documents?prefix=p:&limit=2', apiKey(ADMIN_KEY))
    expect(first.status).toBe(200)
    const page = first.body as { documents: string[]; next?: string }
    expect(page.documents).toEqual(['p:1', 'p:2'])
    const second = await call(
      server,
      'GET',
      `/v1/documents?prefix=p:&limit=2&after=${page.next}`,
      apiKey(ADMIN_KEY),
    )
    expect((second.body as { documents: string[] }).documents).toEqual(['p:3'])

    const deletions: unknown[] = []
    server.sync.on('document-deleted', (event) => deletions.push(event))
    const deleted = await call(server, 'DELETE', '/v1/documents/p:1', apiKey(ADMIN_KEY))
    expect(deleted.status).toBe(204)
    // The caller is the delete's actor, as it is a write's.
    expect(deletions).toEqual([{ documentId: 'p:1', origin: 'local', actor: 'ops' }])
    expect((await call(server, 'GET', '/v1/documents/p:1', apiKey(ADMIN_KEY))).status).toBe(404)
    const again = await call(server, 'DELETE', '/v1/documents/p:1', apiKey(ADMIN_KEY))
    expect(again.status).toBe(404)
    expect(errorCode(again.body)).toBe('NOT_FOUND')
  })
})

describe('REST API: bad requests', () => {
  it('400 on bad JSON, a bad body shape, a bad id or a bad query; 415 on another media type', async () => {
    const server = await startRestServer(cleanups)
    const admin = { ...apiKey(ADMIN_KEY), ...JSON_BODY }
    const badJson = await call(server, 'PATCH', '/v1/documents/a', admin, '{"set": {')
    expect(badJson.status).toBe(400)
    expect(errorCode(badJson.body)).toBe('INVALID_JSON')
    const deep = await call(
      server,
      'PATCH',
      '/v1/documents/a',
      admin,
      `{"set":{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`,
    )
    expect(deep.status).toBe(400)
    expect(errorCode((await call(server, 'PATCH', '/v1/documents/a', admin, '[1]')).body)).toBe(
      'INVALID_INPUT',
    )
    expect(errorCode((await call(server, 'PATCH', '/v1/documents/a', admin, '{"set":1}')).body)).toBe(
      'INVALID_INPUT',
    )
    expect(errorCode((await call(server, 'PATCH', '/v1/documents/a', admin, '{"put":{}}')).body)).toBe(
      'INVALID_INPUT',
    )
    const badId = await call(server, 'GET', '/v1/documents/a%2Fb', apiKey(ADMIN_KEY))
    expect(badId.status).toBe(400)
    expect(errorCode(badId.body)).toBe('INVALID_INPUT')
    expect((await call(server, 'GET', '/v1/documents?limit=ten', apiKey(ADMIN_KEY))).status).toBe(400)
    expect((await call(server, 'GET', '/v1/documents/a?meta=yes', apiKey(ADMIN_KEY))).status).toBe(400)
    const form = await call(
      server,
      'PATCH',
      '/v1/documents/a',
      { ...apiKey(ADMIN_KEY), 'content-type': 'text/plain' },
      '{}',
    )
    expect(form.status).toBe(415)
    const method = await call(server, 'POST', '/v1/documents/a', apiKey(ADMIN_KEY))
    expect(method.status).toBe(405)
    expect(method.headers.get('allow')).toBe('GET, PATCH, DELETE, HEAD')
    expect((await call(server, 'GET', '/v1/nothing', apiKey(ADMIN_KEY))).status).toBe(404)
  })

  it('413 beyond maxBodyBytes, declared or streamed without a length', async () => {
    const server = await startRestServer(cleanups, { rest: { maxBodyBytes: 1024 } })
    const headers = { ...apiKey(ADMIN_KEY), ...JSON_BODY }
    const big = JSON.stringify({ set: { x: 'y'.repeat(2000) } })
    const declared = await call(server, 'PATCH', '/v1/documents/a', headers, big)
    expect(declared.status).toBe(413)
    expect(errorCode(declared.body)).toBe('PAYLOAD_TOO_LARGE')
    const bytes = new TextEncoder().encode(big)
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 100) controller.enqueue(bytes.slice(i, i + 100))
        controller.close()
      },
    })
    const streamed = await call(server, 'PATCH', '/v1/documents/a', headers, stream)
    expect(streamed.status).toBe(413)
    // Just under the cap is read and applied.
    const fits = await call(
      server,
      'PATCH',
      '/v1/documents/a',
      headers,
      JSON.stringify({ set: { x: 'y'.repeat(900) } }),
    )
    expect(fits.status).toBe(200)
  })

  it('is off unless asked for: /v1 is not served', async () => {
    const sync = createSyncServer({ auth: { required: false } })
    cleanups.push(() => sync.close())
    const response = await sync.fetch(new Request('http://localhost/v1/documents/a'))
    expect(response.status).toBe(404)
    expect(() => createSyncServer({ rest: { maxBodyBytes: 0 } })).toThrow(/rest.maxBodyBytes/)
    expect(() => createSyncServer({ rest: { maxBody: 1 } as never })).toThrow(/rest.maxBody/)
  })

  it('anonymous mode grants its permissions: read and write, but no list or delete', async () => {
    const sync = createSyncServer({ auth: { required: false }, rest: true })
    cleanups.push(() => sync.close())
    const send = (method: string, path: string, body?: string) =>
      sync.fetch(
        new Request(`http://localhost${path}`, { method, ...(body ? { body, headers: JSON_BODY } : {}) }),
      )
    expect((await send('PATCH', '/v1/documents/open', '{"set":{"a":1}}')).status).toBe(200)
    expect((await send('GET', '/v1/documents/open')).status).toBe(200)
    expect((await send('GET', '/v1/documents')).status).toBe(403)
    expect((await send('DELETE', '/v1/documents/open')).status).toBe(403)
  })
})

describe('REST API: the document API errors by status', () => {
  it('422 when validate refuses, 413 over a quota, 501 without store.list, 503 once closing', async () => {
    const server = await startRestServer(cleanups, {
      validate: {
        '*': (write) => write.field !== 'title' || typeof write.value === 'string' || 'title is text',
      },
      limits: { maxFieldValueBytes: 256 },
      store: { load: async () => undefined, save: async () => undefined },
    })
    const admin = apiKey(ADMIN_KEY)
    const invalid = await patch(server, 'v', { set: { title: 5 } }, admin)
    expect(invalid.status).toBe(422)
    expect(errorCode(invalid.body)).toBe('VALIDATION_FAILED')
    const huge = await patch(server, 'v', { set: { body: 'x'.repeat(1000) } }, admin)
    expect(huge.status).toBe(413)
    expect(errorCode(huge.body)).toBe('QUOTA_EXCEEDED')
    const list = await call(server, 'GET', '/v1/documents', admin)
    expect(list.status).toBe(501)
    expect(errorCode(list.body)).toBe('NOT_SUPPORTED')
    expect((await call(server, 'DELETE', '/v1/documents/v', admin)).status).toBe(501)
    await server.sync.close()
    const closing = await server.sync.fetch(
      new Request('http://localhost/v1/documents/v', {
        method: 'PATCH',
        headers: { ...admin, ...JSON_BODY },
        body: '{"set":{"a":1}}',
      }),
    )
    expect(closing.status).toBe(503)
    expect(errorCode(await closing.json())).toBe('SHUTTING_DOWN')
  })
})

describe('REST API: through the engine', () => {
  it('a PATCH reaches a subscribed WebSocket client', async () => {
    const server = await startRestServer(cleanups)
    const token = await tokenFor('viewer', { canRead: ['board:*'] })
    const client = createSyncClient({
      url: server.ws,
      WebSocket,
      token,
      reconnect: false,
      requestTimeoutMs: 10_000,
    })
    cleanups.push(async () => client.close())
    await within(client.connect(), 10_000, 'connect')
    await within(client.subscribe('board:1'), 10_000, 'subscribe')
    const written = await patch(server, 'board:1', { set: { status: 'done' } }, apiKey(ADMIN_KEY))
    expect(written.status).toBe(200)
    await waitFor(() => client.get('board:1')?.status === 'done', { timeoutMs: 10_000, message: 'echo' })
  })

  it('a custom policy is asked field by field; one refused field refuses the write', async () => {
    const server = await startRestServer(cleanups, {
      auth: {
        authorize: ({ action, field }) => action === 'read' || field !== 'locked',
      },
    })
    const token = bearer(await tokenFor('u', { canWrite: ['*'] }))
    const refused = await patch(server, 'f', { set: { open: 1, locked: 2 } }, token)
    expect(refused.status).toBe(403)
    expect(refused.body).toMatchObject({
      error: { code: 'PERMISSION_DENIED', details: { fields: ['locked'] } },
    })
    expect((await patch(server, 'f', { set: { open: 1 } }, token)).status).toBe(200)
  })
})
