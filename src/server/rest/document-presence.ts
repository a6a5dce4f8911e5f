import { requireAccess } from './access.js'
import { jsonResponse } from './responses.js'
import type { RouteHandler } from './route.js'

/** `GET /v1/documents/{id}/presence`: the clients present on the document, cluster-wide. */
export const documentPresence: RouteHandler = async ({ deps, caller, documentId }) => {
  requireAccess(deps, caller, 'read', documentId)
  const clients = await deps.documents.presence(documentId)
  return jsonResponse(200, { id: documentId, clients })
}
