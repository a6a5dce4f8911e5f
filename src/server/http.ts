import { safeEqual } from '../auth/constant-time.js'
import { handleInspectorRequest, INSPECTOR_API, type InspectorSource } from './inspector/routes.js'
import { PROMETHEUS_CONTENT_TYPE } from './prometheus.js'
import { mayServeFile, PAGE_HEADERS, type StaticFile, type StaticFiles } from './static-files.js'
import { SERVER_NAME, VERSION } from './version.js'

/** docs/protocol.md §12: on every response. The API serves JSON only, so the CSP allows nothing. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'X-XSS-Protection': '1; mode=block',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
})

export interface DocumentSummary {
  id: string
  subscribers: number
  /** ms of the last change this node saw, or null. */
  lastModified: number | null
}

export interface HealthReport {
  uptimeSeconds: number
  totalConnections: number
  totalUsers: number
  totalClients: number
  totalDocuments: number
  documents: DocumentSummary[]
}

export interface Readiness {
  ready: boolean
  /** Serving, but a dependency that is not needed for local clients (the broker) is failing. */
  degraded?: boolean
  checks: Record<string, string>
}

/** What the routes read from the running server. */
export interface HttpSource {
  readonly exposeDocumentIds: boolean
  /** Bearer token of `/metrics` and the detailed `/health`; undefined = open. */
  readonly metricsToken: string | undefined
  health(includeDocuments: boolean): HealthReport
  readiness(): Promise<Readiness>
  metricsText(): string
  /** Pages served beside the API routes (`http.staticFiles`); none by default. */
  readonly staticFiles?: StaticFiles | undefined
  /** The REST API, which answers every `/v1/...` request when it is on (the `rest` option). */
  readonly rest?: ((request: Request, path: string) => Promise<Response>) | undefined
  /** The inspector's API (`http.inspector`); without it `/inspector` is not served at all. */
  readonly inspector?: InspectorSource | undefined
}

/** Where the WebSocket endpoint is unless an adapter's `path` says otherwise. */
export const DEFAULT_WS_PATH = '/ws'

const WS_ONLY = `Upgrade Required: ${DEFAULT_WS_PATH} accepts WebSocket connections only`

/** The SyncKit HTTP routes (docs/protocol.md §12) plus liveness, readiness and Prometheus metrics. */
export async function handleHttpRequest(request: Request, source: HttpSource): Promise<Response> {
  let path: string
  try {
    path = new URL(request.url).pathname
  } catch {
    return json(400, { error: 'Bad request' })
  }
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1)
  if (source.rest && (path === '/v1' || path.startsWith('/v1/'))) return source.rest(request, path)
  if (isInspectorPath(path)) {
    if (!source.inspector) return json(404, { error: 'Not found' })
    if (path === INSPECTOR_API || path.startsWith(`${INSPECTOR_API}/`)) {
      return withSecurityHeaders(await handleInspectorRequest(request, path, source.inspector))
    }
  }
  const route = ROUTES.get(path)
  const files = source.staticFiles
  const file = files && mayServeFile(request, path, route !== undefined) ? await files(path) : undefined
  if (!route && !file) return json(404, { error: 'Not found' })
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return json(405, { error: 'Method not allowed' }, { Allow: 'GET, HEAD' })
  }
  const response = file ? page(file) : await (route as Route)(source, request)
  // `/` answers by the Accept header once it can serve a page: caches must keep both apart.
  if (files && path === '/') response.headers.set('Vary', 'Accept')
  return request.method === 'HEAD' ? new Response(null, response) : response
}

type Route = (source: HttpSource, request: Request) => Response | Promise<Response>

/** The inspector's page, its files and its API: served only when it is on. */
function isInspectorPath(path: string): boolean {
  return path === '/inspector' || path.startsWith('/inspector/')
}

/** `open`: no token is configured, or the right one was sent. `absent`: a token is needed. */
type Access = 'open' | 'absent' | 'refused'

async function monitoringAccess(source: HttpSource, request: Request): Promise<Access> {
  if (source.metricsToken === undefined) return 'open'
  const header = request.headers.get('authorization')
  if (header === null) return 'absent'
  const match = /^bearer +(\S+) *$/i.exec(header)
  // Hashed on both sides before comparing: timing reveals neither a matching prefix nor the length.
  return match?.[1] !== undefined && (await safeEqual(match[1], source.metricsToken)) ? 'open' : 'refused'
}

/** RFC 6750: 401 with a `WWW-Authenticate: Bearer` challenge, `invalid_token` when one was sent. */
function unauthorized(access: Exclude<Access, 'open'>): Response {
  const challenge =
    access === 'absent' ? 'Bearer realm="synckit"' : 'Bearer realm="synckit", error="invalid_token"'
  return json(
    401,
    { error: access === 'absent' ? 'Unauthorized' : 'Invalid token' },
    { 'WWW-Authenticate': challenge },
  )
}

const MIN_METRICS_TOKEN = 16
const MAX_METRICS_TOKEN = 1024

/** What is wrong with a configured metrics token (undefined: usable). Never repeats the value. */
export function checkMetricsToken(token: string): string | undefined {
  if (token.length < MIN_METRICS_TOKEN) {
    return `expected at least ${MIN_METRICS_TOKEN} characters (got ${token.length})`
  }
  if (token.length > MAX_METRICS_TOKEN) {
    return `expected at most ${MAX_METRICS_TOKEN} characters (got ${token.length})`
  }
  // RFC 6750 b64token: what an `Authorization: Bearer` header can carry unquoted.
  if (!/^[A-Za-z0-9._~+/-]+=*$/.test(token))
    return 'expected the characters A-Z a-z 0-9 - . _ ~ + / and trailing ='
  return undefined
}

const ROUTES = new Map<string, Route>(
  Object.entries({
    '/': () =>
      json(200, {
        name: SERVER_NAME,
        version: VERSION,
        description: 'Embeddable real-time sync server speaking the SyncKit wire protocol',
        endpoints: { health: '/health', ws: DEFAULT_WS_PATH, auth: '/auth' },
        features: { websocket: true, auth: true, sync: true, crdt: true },
      }),
    '/health': async (source, request) => {
      // The status stays public (load balancers, SyncKit's test client); the details need the token.
      const access = await monitoringAccess(source, request)
      if (access === 'refused') return unauthorized(access)
      const basic = { status: 'healthy', timestamp: new Date().toISOString(), version: VERSION }
      if (access === 'absent') return json(200, basic)
      const report = source.health(source.exposeDocumentIds)
      return json(200, {
        ...basic,
        uptime: report.uptimeSeconds,
        connections: {
          totalConnections: report.totalConnections,
          totalUsers: report.totalUsers,
          totalClients: report.totalClients,
        },
        documents: { totalDocuments: report.totalDocuments, documents: report.documents },
      })
    },
    '/health/live': () => json(200, { status: 'healthy' }),
    '/health/ready': async (source) => {
      const { ready, degraded, checks } = await source.readiness()
      const status = !ready ? 'unhealthy' : degraded ? 'degraded' : 'healthy'
      return json(ready ? 200 : 503, { status, checks })
    },
    '/metrics': async (source, request) => {
      const access = await monitoringAccess(source, request)
      if (access !== 'open') return unauthorized(access)
      return text(200, source.metricsText(), PROMETHEUS_CONTENT_TYPE)
    },
    [DEFAULT_WS_PATH]: () =>
      text(426, WS_ONLY, 'text/plain; charset=utf-8', { Upgrade: 'websocket', Connection: 'Upgrade' }),
  } satisfies Record<string, Route>),
)

function json(status: number, body: unknown, extra?: Record<string, string>): Response {
  return text(status, JSON.stringify(body), 'application/json; charset=utf-8', extra)
}

function page(file: StaticFile): Response {
  const body = typeof file.body === 'string' ? file.body : new Uint8Array(file.body)
  return text(200, body, file.contentType, PAGE_HEADERS)
}

function text(
  status: number,
  body: string | Uint8Array<ArrayBuffer>,
  contentType: string,
  extra?: Readonly<Record<string, string>>,
): Response {
  const headers = new Headers(SECURITY_HEADERS)
  headers.set('Content-Type', contentType)
  headers.set('Cache-Control', 'no-store')
  if (extra) for (const [name, value] of Object.entries(extra)) headers.set(name, value)
  return new Response(body, { status, headers })
}

/** Security headers on a response produced elsewhere (e.g. the `/auth` routes). */
export function withSecurityHeaders(response: Response): Response {
  const headers = new Headers(response.headers)
  for (const [name, value] of Object.entries(SECURITY_HEADERS))
    if (!headers.has(name)) headers.set(name, value)
  headers.set('Cache-Control', 'no-store')
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers })
}
