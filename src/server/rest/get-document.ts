import { requireAccess } from './access.js'
import { booleanParam } from './query.js'
import { errorResponse, jsonResponse } from './responses.js'
import type { RouteHandler } from './route.js'

/** `GET /v1/documents/{id}[?meta=1]`: the live fields and clock; 404 when it was never written. */
export const getDocument: RouteHandler = async ({ url, deps, caller, documentId }) => {
  const meta = booleanParam(url, 'meta')
  requireAccess(deps, caller, 'read', documentId)
  const view = await deps.documents.get(documentId, meta ? { meta: true } : undefined)
  if (!view) return errorResponse(404, 'NOT_FOUND', 'Document not found', { details: { documentId } })
  return jsonResponse(200, view)
}
