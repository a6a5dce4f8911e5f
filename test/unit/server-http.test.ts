import { afterEach, describe, expect, it } from 'vitest'
import {
  createSyncServer,
  type DocumentStore,
  MemoryStore,
  type StaticFiles,
  type SyncServer,
  type SyncServerOptions,
} from '../../src/server/index.js'
import { PAGE_CSP } from '../../src/server/static-files.js'
import { FakeSocket, frame, waitFor } from './server-fakes.js'

const servers: SyncServer[] = []
function server(options: SyncServerOptions = {}): SyncServer {
  const created = createSyncServer({ auth: { required: false }, ...options })
  servers.push(created)
  return created
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

const get = (sync: SyncServer, path: string, method = 'GET') =>
  sync.fetch(new Request(`http://localhost${path}`, { method }))

/** What Chromium sends when it navigates to a page. */
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8'

async function sync200(sync: SyncServer, path: string, headers: Record<string, string> = {}) {
  const response = await sync.fetch(new Request(`http://localhost${path}`, { headers }))
  expect(response.status).toBe(200)
  return response
}

const SECURITY = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'x-xss-protection': '1; mode=block',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
}

function expectSecurityHeaders(response: Response): void {
  for (const [name, value] of Object.entries(SECURITY)) expect(response.headers.get(name)).toBe(value)
}

async function withTraffic(sync: SyncServer): Promise<void> {
  const socket = new FakeSocket()
  const handle = sync.handleConnection(socket, { remoteAddress: '10.0.0.1' })
  handle.receive(frame('subscribe', { documentId: 'secret-doc' }))
  handle.receive(frame('delta', { documentId: 'secret-doc', delta: { a: 1 }, messageId: 'w1' }))
  await waitFor(() => socket.ofType('ack').length === 1)
}

describe('HTTP routes (server.fetch)', () => {
  it('GET / describes the server', async () => {
    const response = await get(server(), '/')
    expect(response.status).toBe(200)
    expectSecurityHeaders(response)
    expect(response.headers.get('content-type')).toContain('application/json')
    expect(await response.json()).toEqual({
      name: 'synckit-engine',
      version: expect.any(String),
      description: expect.any(String),
      endpoints: { health: '/health', ws: '/ws', auth: '/auth' },
      features: { websocket: true, auth: true, sync: true, crdt: true },
    })
  })

  it('GET /health has the SyncKit shape and hides document ids by default', async () => {
    const sync = server()
    await withTraffic(sync)
    const response = await get(sync, '/health')
    expectSecurityHeaders(response)
    const body = await response.json()
    expect(body).toEqual({
      status: 'healthy',
      timestamp: expect.any(String),
      version: expect.any(String),
      uptime: expect.any(Number),
      connections: { totalConnections: 1, totalUsers: 1, totalClients: 1 },
      documents: { totalDocuments: 1, documents: [] },
    })
    expect(new Date(body.timestamp).toISOString()).toBe(body.timestamp)
  })

  it('GET /health lists documents only with http.exposeDocumentIds', async () => {
    const sync = server({ http: { exposeDocumentIds: true } })
    await withTraffic(sync)
    const body = await (await get(sync, '/health')).json()
    expect(body.documents.documents).toEqual([
      { id: 'secret-doc', subscribers: 1, lastModified: expect.any(Number) },
    ])
  })

  it('GET /health/live and /health/ready', async () => {
    const live = await get(server(), '/health/live')
    expect(live.status).toBe(200)
    expect(await live.json()).toEqual({ status: 'healthy' })

    const ready = await get(server(), '/health/ready')
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ status: 'healthy', checks: { store: 'ok', server: 'ok' } })

    const sick: DocumentStore = Object.assign(new MemoryStore(), { health: async () => false })
    const notReady = await get(server({ store: sick }), '/health/ready')
    expect(notReady.status).toBe(503)
    expectSecurityHeaders(notReady)
    expect(await notReady.json()).toMatchObject({ status: 'unhealthy', checks: { store: 'failing' } })

    const throwing: DocumentStore = Object.assign(new MemoryStore(), {
      health: async () => {
        throw new Error('down')
      },
    })
    expect((await get(server({ store: throwing }), '/health/ready')).status).toBe(503)
  })

  it('GET /health/ready is 503 once shutting down', async () => {
    const sync = server()
    await sync.close()
    const response = await get(sync, '/health/ready')
    expect(response.status).toBe(503)
    expect(await response.json()).toMatchObject({ checks: { server: 'closing' } })
  })

  it('GET /metrics serves Prometheus text with the runtime counters', async () => {
    const sync = server()
    await withTraffic(sync)
    const response = await get(sync, '/metrics')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('text/plain; version=0.0.4')
    expectSecurityHeaders(response)
    const text = await response.text()
    for (const line of [
      '# TYPE synckit_connections gauge',
      'synckit_connections 1',
      'synckit_documents 1',
      'synckit_messages_in_total{type="subscribe"} 1',
      'synckit_messages_in_total{type="delta"} 1',
      'synckit_messages_out_total{type="sync_response"} 1',
      'synckit_messages_out_total{type="ack"} 1',
      '# TYPE synckit_bytes_in_total counter',
      '# TYPE synckit_bytes_out_total counter',
      '# TYPE synckit_broadcast_fanout histogram',
      'synckit_broadcast_fanout_bucket{le="+Inf"}',
      '# TYPE synckit_persist_latency_seconds histogram',
      'synckit_persist_latency_seconds_count 1',
      '# TYPE synckit_errors_total counter',
    ]) {
      expect(text).toContain(line)
    }
    expect(text).toMatch(/synckit_bytes_in_total [1-9]\d*/)
  })

  it('counts protocol errors by code', async () => {
    const sync = server()
    const handle = sync.handleConnection(new FakeSocket(), { remoteAddress: '10.0.0.1' })
    handle.receive(new Uint8Array([0x10]))
    expect(sync.metrics()).toContain('synckit_errors_total{code="INVALID_MESSAGE"} 1')
  })

  it('GET /ws without an upgrade is 426 with a clear text body', async () => {
    const response = await get(server(), '/ws')
    expect(response.status).toBe(426)
    expectSecurityHeaders(response)
    expect(await response.text()).toBe('Upgrade Required: /ws accepts WebSocket connections only')
  })

  it('serves no page unless http.staticFiles is set: a browser at / gets the JSON info', async () => {
    const response = await sync200(server(), '/', { accept: BROWSER_ACCEPT })
    expect(response.headers.get('content-type')).toContain('application/json')
    expect(response.headers.get('vary')).toBeNull()
    expectSecurityHeaders(response)
  })

  it('http.staticFiles: browsers get the page at /, API clients the JSON; files never shadow a route', async () => {
    const requested: string[] = []
    const files: StaticFiles = async (path) => {
      requested.push(path)
      if (path === '/')
        return { body: '<!doctype html><title>demo</title>', contentType: 'text/html; charset=utf-8' }
      if (path === '/demo/app.js')
        return { body: new TextEncoder().encode('export {}'), contentType: 'text/javascript' }
      // A careless source answering everything still cannot replace an API route.
      return { body: 'shadow', contentType: 'text/plain' }
    }
    const sync = server({ http: { staticFiles: files } })

    const html = await sync200(sync, '/', { accept: BROWSER_ACCEPT })
    expect(html.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(await html.text()).toContain('<title>demo</title>')
    expect(html.headers.get('vary')).toBe('Accept')
    expect(html.headers.get('cache-control')).toBe('no-cache')
    expect(html.headers.get('content-security-policy')).toBe(PAGE_CSP)
    for (const name of ['x-content-type-options', 'x-frame-options', 'referrer-policy'])
      expect(html.headers.get(name)).toBe(SECURITY[name as keyof typeof SECURITY])

    for (const accept of [undefined, '*/*', 'application/json']) {
      const info = await sync200(sync, '/', accept ? { accept } : {})
      expect(info.headers.get('content-type')).toContain('application/json')
      expect(info.headers.get('vary')).toBe('Accept')
      expectSecurityHeaders(info)
      expect(await info.json()).toMatchObject({ name: 'synckit-engine' })
    }

    const script = await sync200(sync, '/demo/app.js')
    expect(script.headers.get('content-type')).toBe('text/javascript')
    expect(await script.text()).toBe('export {}')
    expect(script.headers.get('vary')).toBeNull()
    expect(await (await get(sync, '/demo/app.js', 'HEAD')).text()).toBe('')
    const post = await get(sync, '/demo/app.js', 'POST')
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')

    const health = await sync200(sync, '/health', { accept: BROWSER_ACCEPT })
    expect(await health.json()).toMatchObject({ status: 'healthy' })
    expect(requested).not.toContain('/health')
  })

  it('http.staticFiles: a path the source does not have is the usual 404 JSON', async () => {
    const sync = server({ http: { staticFiles: () => undefined } })
    const missing = await get(sync, '/nope')
    expect(missing.status).toBe(404)
    expectSecurityHeaders(missing)
    expect(await missing.json()).toEqual({ error: 'Not found' })
    const root = await sync200(sync, '/', { accept: BROWSER_ACCEPT })
    expect(root.headers.get('content-type')).toContain('application/json')
  })

  it('unknown paths are 404 JSON, other methods 405, HEAD has no body', async () => {
    const sync = server()
    const missing = await get(sync, '/nope')
    expect(missing.status).toBe(404)
    expectSecurityHeaders(missing)
    expect(await missing.json()).toEqual({ error: 'Not found' })
    expect((await get(sync, '/__proto__')).status).toBe(404)
    const post = await get(sync, '/health', 'POST')
    expect(post.status).toBe(405)
    expectSecurityHeaders(post)
    const head = await get(sync, '/health', 'HEAD')
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
  })
})

describe('http.metricsToken: /metrics and the detailed /health need a bearer token', () => {
  const TOKEN = 'mon_0123456789abcdef0123'
  const withAuth = (sync: SyncServer, path: string, authorization?: string, method = 'GET') =>
    sync.fetch(
      new Request(`http://localhost${path}`, {
        method,
        ...(authorization === undefined ? {} : { headers: { authorization } }),
      }),
    )

  async function expectUnauthorized(response: Response, error: string): Promise<void> {
    expect(response.status).toBe(401)
    expectSecurityHeaders(response)
    expect(response.headers.get('content-type')).toContain('application/json')
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="synckit"/)
    expect(await response.json()).toEqual({ error })
  }

  it('refuses /metrics without the token, or with a wrong one, with 401 and WWW-Authenticate', async () => {
    const sync = server({ http: { metricsToken: TOKEN } })
    await expectUnauthorized(await withAuth(sync, '/metrics'), 'Unauthorized')
    const wrong = await withAuth(sync, '/metrics', `Bearer ${TOKEN}x`)
    await expectUnauthorized(wrong, 'Invalid token')
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"')
    await expectUnauthorized(await withAuth(sync, '/metrics', `Basic ${TOKEN}`), 'Invalid token')
    await expectUnauthorized(await withAuth(sync, '/metrics', 'Bearer'), 'Invalid token')
    await expectUnauthorized(await withAuth(sync, '/metrics', TOKEN.slice(0, -1)), 'Invalid token')
    expect((await withAuth(sync, '/metrics', undefined, 'HEAD')).status).toBe(401)
  })

  it('serves /metrics with the right token (scheme case-insensitive)', async () => {
    const sync = server({ http: { metricsToken: TOKEN } })
    await withTraffic(sync)
    for (const header of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER   ${TOKEN}`]) {
      const response = await withAuth(sync, '/metrics', header)
      expect(response.status).toBe(200)
      expect(await response.text()).toContain('synckit_connections 1')
    }
  })

  it('keeps the basic /health open (status healthy) and gives the details only with the token', async () => {
    const sync = server({ http: { metricsToken: TOKEN, exposeDocumentIds: true } })
    await withTraffic(sync)
    const basic = await withAuth(sync, '/health')
    expect(basic.status).toBe(200)
    expectSecurityHeaders(basic)
    expect(await basic.json()).toEqual({
      status: 'healthy',
      timestamp: expect.any(String),
      version: expect.any(String),
    })
    const detailed = await withAuth(sync, '/health', `Bearer ${TOKEN}`)
    expect(await detailed.json()).toMatchObject({
      status: 'healthy',
      connections: { totalConnections: 1 },
      documents: { totalDocuments: 1, documents: [{ id: 'secret-doc' }] },
    })
    await expectUnauthorized(await withAuth(sync, '/health', 'Bearer nope'), 'Invalid token')
    for (const path of ['/health/live', '/health/ready', '/']) {
      expect((await withAuth(sync, path)).status, path).toBe(200)
    }
  })

  it('is off by default: /metrics and the detailed /health stay open', async () => {
    const sync = server()
    expect((await get(sync, '/metrics')).status).toBe(200)
    expect(await (await get(sync, '/health')).json()).toHaveProperty('connections')
  })

  it('refuses a token that is too short or cannot travel in a header', () => {
    expect(() => createSyncServer({ http: { metricsToken: 'short' } })).toThrow(
      'Invalid option http.metricsToken: expected at least 16 characters (got 5)',
    )
    expect(() => createSyncServer({ http: { metricsToken: 'has a space in it, 1234' } })).toThrow(
      /Invalid option http\.metricsToken: expected the characters A-Z a-z 0-9 - \. _ ~ \+ \/ and trailing =/,
    )
  })
})
