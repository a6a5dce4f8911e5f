import { readJsonBody } from '../../auth/http.js'
import { isValidDocumentId, MAX_DOCUMENT_ID_LENGTH } from '../../protocol/document-id.js'
import { DocumentApiError } from '../documents.js'
import { type InspectorAuth, inspectorAccess } from './access.js'
import type { InspectorData } from './types.js'

/** The inspector's API: the data of the page at `/inspector`, for admins only (see `access.ts`). */
export interface InspectorSource extends InspectorAuth {
  readonly data: InspectorData
}

/** Where the API lives; the page is the static file at `/inspector`. */
export const INSPECTOR_API = '/inspector/api'

const DEFAULT_PAGE = 100
const MAX_PAGE = 1000
const MAX_ID_LENGTH = 1024

type Read = (data: InspectorData, query: URLSearchParams) => Promise<Response>
type Action = (data: InspectorData, body: Record<string, unknown>) => Promise<Response>

const READS: Record<string, Read> = {
  '/stats': async (data) => json(200, data.stats()),
  '/documents': async (data, params) => {
    const limit = params.has('limit') ? Number(params.get('limit')) : DEFAULT_PAGE
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      return json(400, { error: `limit: expected an integer from 1 to ${MAX_PAGE}` })
    }
    const prefix = params.get('prefix') ?? ''
    const after = params.get('after') ?? undefined
    if (prefix.length > MAX_DOCUMENT_ID_LENGTH || (after?.length ?? 0) > MAX_DOCUMENT_ID_LENGTH) {
      return json(400, { error: `prefix, after: at most ${MAX_DOCUMENT_ID_LENGTH} characters` })
    }
    return json(200, await data.listDocuments({ prefix, after, limit }))
  },
  '/document': async (data, query) => {
    const id = query.get('id')
    if (!isValidDocumentId(id)) return json(400, { error: 'id: expected a valid document id' })
    const document = await data.document(id)
    return document ? json(200, document) : json(404, { error: 'No such document' })
  },
}

const ACTIONS: Record<string, Action> = {
  '/evict': async (data, body) => {
    const id = body.documentId
    if (!isValidDocumentId(id)) return json(400, { error: 'documentId: expected a valid document id' })
    const blocker = data.evict(id)
    if (blocker === undefined) return json(200, { evicted: true })
    return json(blocker === 'not-loaded' ? 404 : 409, { evicted: false, reason: blocker })
  },
  '/disconnect': async (data, body) => {
    const id = stringField(body, 'connectionId')
    if (id === undefined) return json(400, { error: 'connectionId: expected a non-empty string' })
    return data.disconnect(id)
      ? json(200, { disconnected: true })
      : json(404, { error: 'No such connection' })
  },
  '/revoke': async (data, body) => {
    const id = stringField(body, 'userId')
    if (id === undefined) return json(400, { error: 'userId: expected a non-empty string' })
    data.revoke(id)
    return json(200, { revoked: true })
  },
}

/**
 * `GET /inspector/api/{stats,documents,document}` and `POST /inspector/api/{evict,disconnect,revoke}`
 * with a JSON body. Every request is checked first; a POST must say `Content-Type:
 * application/json`, which a cross-site form cannot send (the browser would ask first, and no
 * CORS header answers), so anonymous mode is no open door to another site's page either.
 */
export async function handleInspectorRequest(
  request: Request,
  path: string,
  source: InspectorSource,
): Promise<Response> {
  const route = path.slice(INSPECTOR_API.length)
  const read = Object.hasOwn(READS, route) ? READS[route] : undefined
  const action = Object.hasOwn(ACTIONS, route) ? ACTIONS[route] : undefined
  if (!read && !action) return json(404, { error: 'Not found' })
  const method = read ? 'GET' : 'POST'
  if (request.method !== method) return json(405, { error: 'Method not allowed' }, { Allow: method })
  const access = await inspectorAccess(request, source)
  if (access !== 'admin') return refusal(access)
  if (read) return answer(() => read(source.data, new URL(request.url).searchParams))
  const type = request.headers.get('content-type') ?? ''
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    return json(415, { error: 'Expected Content-Type: application/json' })
  }
  const body = await readJsonBody(request)
  if (!body.ok) return body.response
  return answer(() => (action as Action)(source.data, body.body))
}

/**
 * An error of `sync.documents` answers with its REST status (bad input 400, a store that cannot
 * 501, otherwise 503), any other failure (the store's) with 503: never an unhandled rejection.
 */
async function answer(handle: () => Promise<Response>): Promise<Response> {
  try {
    return await handle()
  } catch (error) {
    if (!(error instanceof DocumentApiError)) return json(503, { error: 'The store failed' })
    const status = error.code === 'INVALID_INPUT' ? 400 : error.code === 'NOT_SUPPORTED' ? 501 : 503
    return json(status, { error: error.message })
  }
}

function refusal(status: 401 | 403 | 503): Response {
  if (status === 403) return json(403, { error: 'The inspector needs an admin token or API key' })
  if (status === 503) return json(503, { error: 'Credentials could not be checked' })
  return json(401, { error: 'Unauthorized' }, { 'WWW-Authenticate': 'Bearer realm="synckit"' })
}

function stringField(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name]
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_ID_LENGTH ? value : undefined
}

function json(status: number, body: unknown, extra?: Record<string, string>): Response {
  const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8', ...extra }
  return new Response(JSON.stringify(body), { status, headers })
}
