import { validateDocumentId } from '../../src/protocol/document-id.js'
import { DEFAULT_WS_PATH } from '../transport.js'
import { earlyCheck, type SyncWorkerAuth } from './early-check.js'
import type { DurableObjectNamespace } from './runtime-types.js'
import { type DocumentScope, encodeScope, SCOPE_HEADER } from './scope.js'

/** Where a request goes: the Durable Object (by name) and the documents it may open there. */
export interface SyncRouteTarget {
  object: string
  documents: DocumentScope
}

/** Picks the object for a request, or answers it (e.g. 400 when the document is missing). */
export type SyncRoute = (url: URL, request: Request) => SyncRouteTarget | Response

/**
 * One object per document: `/ws?doc=<documentId>`. The connection may open that document only.
 * Best when documents are independent; each one hibernates and scales on its own.
 */
export function routeByDocument(options: { param?: string } = {}): SyncRoute {
  const param = options.param ?? 'doc'
  return (url) => {
    const documentId = url.searchParams.get(param)
    const invalid = validateDocumentId(documentId)
    if (invalid !== undefined || documentId === null) return badRequest(`?${param}=: ${invalid}`)
    return { object: `doc:${documentId}`, documents: { document: documentId } }
  }
}

/**
 * One object per room: `/ws?room=<room>`, serving the documents whose id starts with
 * `<room><separator>` (default `:`, e.g. `team-1:todo`), over one connection.
 */
export function routeByRoom(options: { param?: string; separator?: string } = {}): SyncRoute {
  const param = options.param ?? 'room'
  const separator = options.separator ?? ':'
  return (url) => {
    const room = url.searchParams.get(param)
    const invalid = validateDocumentId(room)
    if (invalid !== undefined || room === null) return badRequest(`?${param}=: ${invalid}`)
    if (room.includes(separator)) return badRequest(`?${param}=: a room name cannot contain "${separator}"`)
    return { object: `room:${room}`, documents: { prefix: `${room}${separator}` } }
  }
}

/** Every document in one object, named `name` (small apps, tests). */
export function routeToObject(name: string): SyncRoute {
  return () => ({ object: name, documents: { all: true } })
}

/** Options of `createSyncWorker`: which binding, how to route, and the check before the object. */
export interface SyncWorkerOptions<Env> {
  /** The Durable Object namespace binding in `env` (`durable_objects.bindings[].name`). */
  binding: string
  /** Default `routeByDocument()`. */
  route?: SyncRoute
  /** WebSocket path. Default `/ws`; upgrades elsewhere get 404. */
  path?: string
  /**
   * Early rejection (optional): the objects' `auth` options, checked here before an upgrade is
   * routed, so a refused client never creates or wakes an object. It is the identity part of the
   * objects' own upgrade check (the `authenticate` hook, then credentials on the request), with
   * the same status and JSON body, and unless the objects are anonymous it also requires the
   * upgrade to say who the client is (no later `auth` message). The object checks again: caps,
   * `allowedOrigins` and identity. Without it, every upgrade reaches its object, whose check
   * alone decides (and the hook runs once instead of twice).
   */
  auth?: (env: Env) => SyncWorkerAuth | undefined
  /**
   * Also forward plain requests (`/`, `/health`, `/health/ready`, `/metrics`, ...) to the routed
   * object, which answers with its own HTTP routes (the name `synckit-engine/node` uses). Default
   * false: 426 on the path, 404 elsewhere.
   */
  handleHttp?: boolean
}

/** A Worker (`export default`) that routes `/ws` to the object serving each document or room. */
export function createSyncWorker<Env>(options: SyncWorkerOptions<Env>): {
  /** The Worker's `fetch` handler: routes `/ws` to its object, the rest as `handleHttp` says. */
  fetch(request: Request, env: Env): Promise<Response>
} {
  const path = options.path ?? DEFAULT_WS_PATH
  const route = options.route ?? routeByDocument()
  const check = options.auth ? earlyCheck(options.auth) : undefined
  return {
    async fetch(request, env) {
      const url = new URL(request.url)
      const upgrade = request.headers.get('upgrade')?.toLowerCase() === 'websocket'
      if (upgrade && url.pathname !== path) return notFound()
      if (!upgrade && !options.handleHttp) {
        return url.pathname === path ? text(426, 'Upgrade Required: WebSocket endpoint') : notFound()
      }
      const target = route(url, request)
      if (target instanceof Response) return target
      if (upgrade && check) {
        const refusal = await check(request, env)
        if (refusal) return refusal
      }
      return forwardToSyncObject(request, namespaceOf(env, options.binding), target)
    },
  }
}

/**
 * Hands a request to the object `target` names, with the document scope it must enforce. For a
 * Worker of your own: the objects refuse requests that did not come through here.
 */
export function forwardToSyncObject(
  request: Request,
  namespace: DurableObjectNamespace,
  target: SyncRouteTarget,
): Promise<Response> {
  const headers = new Headers(request.headers)
  headers.set(SCOPE_HEADER, encodeScope(target.documents))
  return namespace.get(namespace.idFromName(target.object)).fetch(new Request(request, { headers }))
}

function namespaceOf(env: unknown, binding: string): DurableObjectNamespace {
  const namespace = (env as Record<string, unknown> | undefined)?.[binding] as
    | Partial<DurableObjectNamespace>
    | undefined
  if (typeof namespace?.idFromName !== 'function' || typeof namespace.get !== 'function') {
    throw new TypeError(`env.${binding} is not a Durable Object namespace binding (check wrangler.toml)`)
  }
  return namespace as DurableObjectNamespace
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } })
}

function badRequest(message: string): Response {
  return text(400, message)
}

function notFound(): Response {
  return new Response(JSON.stringify({ error: 'Not found' }), {
    status: 404,
    headers: { 'content-type': 'application/json' },
  })
}
