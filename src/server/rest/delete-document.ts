import { requireAdmin } from './access.js'
import { errorResponse, jsonResponse } from './responses.js'
import type { RouteHandler } from './route.js'

/** `DELETE /v1/documents/{id}` (admin): gone from the store and memory; 404 when it did not exist. */
export const deleteDocument: RouteHandler = async ({ deps, caller, documentId }) => {
  requireAdmin(deps, caller, documentId)
  if (await deps.documents.delete(documentId, { actor: caller.principal.userId }))
    return jsonResponse(204, null)
  return errorResponse(404, 'NOT_FOUND', 'Document not found', { details: { documentId } })
}
