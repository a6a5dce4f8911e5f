import { validateDocumentId } from '../../protocol/document-id.js'
import { DocumentApiError } from '../documents.js'
import { deleteDocument } from './delete-document.js'
import type { RestDeps } from './deps.js'
import { documentPresence } from './document-presence.js'
import { getDocument } from './get-document.js'
import { identify } from './identity.js'
import { listDocuments } from './list-documents.js'
import { openApiDocument } from './openapi.js'
import { errorResponse, jsonTextResponse, RestRefusal, refuse, STATUS_OF } from './responses.js'
import type { RouteHandler } from './route.js'
import { updateDocument } from './update-document.js'

/** The REST API (`/v1/...`, docs/rest.md): one request in, one JSON response out. */
export type RestHandler = (request: Request, path: string) => Promise<Response>

/** The methods of `/v1/documents/{id}` and of its `/presence`. */
const DOCUMENT: Readonly<Record<string, RouteHandler>> = {
  GET: getDocument,
  PATCH: updateDocument,
  DELETE: deleteDocument,
}
const PRESENCE: Readonly<Record<string, RouteHandler>> = { GET: documentPresence }

/** Routes `/v1/...` requests; `path` is the request's path, without a trailing slash. */
export function createRestHandler(deps: RestDeps): RestHandler {
  let openApiText: string | undefined
  return async (request, path) => {
    const head = request.method === 'HEAD'
    const method = head ? 'GET' : request.method
    let response: Response
    try {
      response = await route(request, path, method, deps, () => {
        openApiText ??= JSON.stringify(openApiDocument())
        return openApiText
      })
    } catch (error) {
      response = failure(error, deps)
    }
    return head ? new Response(null, response) : response
  }
}

async function route(
  request: Request,
  path: string,
  method: string,
  deps: RestDeps,
  openApi: () => string,
): Promise<Response> {
  const segments = path.split('/').slice(2) // '', 'v1', ...
  if (segments.length === 1 && segments[0] === 'openapi.json') {
    allow(method, ['GET'])
    return jsonTextResponse(200, openApi())
  }
  if (
    segments[0] !== 'documents' ||
    segments.length > 3 ||
    (segments.length === 3 && segments[2] !== 'presence')
  ) {
    throw refuse(404, 'NOT_FOUND', `No route ${path}`)
  }
  const url = new URL(request.url)
  if (segments.length === 1) {
    allow(method, ['GET'])
    return listDocuments(url, deps, await identify(request, deps))
  }
  const handlers = segments.length === 2 ? DOCUMENT : PRESENCE
  allow(method, Object.keys(handlers))
  const handler = handlers[method] as RouteHandler
  const caller = await identify(request, deps)
  const documentId = decodeId(segments[1] ?? '')
  return handler({ request, url, deps, caller, documentId })
}

function allow(method: string, methods: readonly string[]): void {
  if (methods.includes(method)) return
  const allowed = methods.includes('GET') ? [...methods, 'HEAD'] : methods
  const refusal = refuse(405, 'METHOD_NOT_ALLOWED', `Method ${method} not allowed`)
  refusal.response.headers.set('Allow', allowed.join(', '))
  throw refusal
}

/** The `{id}` path segment, percent-decoded, then held to the document-id rules. */
function decodeId(segment: string): string {
  let id: string
  try {
    id = decodeURIComponent(segment)
  } catch {
    throw refuse(400, 'INVALID_INPUT', 'Invalid document ID: bad percent-encoding')
  }
  const problem = validateDocumentId(id)
  if (problem) throw refuse(400, 'INVALID_INPUT', problem, { documentId: id })
  return id
}

/** A refusal as it was thrown; the document API's errors by their code; anything else is ours (500). */
function failure(error: unknown, deps: RestDeps): Response {
  if (error instanceof RestRefusal) return error.response
  if (error instanceof DocumentApiError) {
    return errorResponse(
      STATUS_OF[error.code] ?? 500,
      error.code,
      error.message,
      error.details ? { details: error.details } : {},
    )
  }
  deps.fail(error, 'rest')
  return errorResponse(500, 'INTERNAL', 'Internal server error')
}
