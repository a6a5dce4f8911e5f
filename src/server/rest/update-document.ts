import { requireAccess, requireFieldWrites } from './access.js'
import { readChange } from './body.js'
import { jsonResponse } from './responses.js'
import type { RouteHandler } from './route.js'

/**
 * `PATCH /v1/documents/{id}` with `{ "set": {...}, "delete": [...] }`: applied through the engine
 * like a socket write (LWW stamp, validation, quotas, echo), answered once it is durable.
 */
export const updateDocument: RouteHandler = async ({ request, deps, caller, documentId }) => {
  requireAccess(deps, caller, 'write', documentId)
  const change = await readChange(request, deps.maxBodyBytes)
  requireFieldWrites(deps, caller, documentId, [...Object.keys(change.set ?? {}), ...(change.delete ?? [])])
  const view = await deps.documents.update(documentId, change, { actor: caller.principal.userId })
  return jsonResponse(200, view)
}
