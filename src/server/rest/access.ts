import { askPolicy } from '../../engine/access.js'
import type { DocumentAction } from '../../engine/types.js'
import type { RestDeps } from './deps.js'
import type { RestCaller } from './identity.js'
import { refuse } from './responses.js'

/**
 * Authorization as the sockets have it: the same policy (`auth.authorize` or RBAC) with the same
 * request, the app context included. Throws `RestRefusal` (403).
 */
export function requireAccess(
  deps: RestDeps,
  caller: RestCaller,
  action: DocumentAction,
  documentId: string,
): void {
  if (allowed(deps, caller, action, documentId)) return
  throw refuse(403, 'PERMISSION_DENIED', 'Permission denied', { documentId, action })
}

/**
 * A write's fields, asked one by one as the socket path asks a custom policy (RBAC grants whole
 * documents). A REST write is all or nothing: one refused field refuses the request.
 */
export function requireFieldWrites(
  deps: RestDeps,
  caller: RestCaller,
  documentId: string,
  fields: readonly string[],
): void {
  const refused = fields.filter((field) => !allowed(deps, caller, 'write', documentId, field))
  if (refused.length === 0) return
  throw refuse(403, 'PERMISSION_DENIED', 'Permission denied', { documentId, fields: refused })
}

/**
 * Listing every id and deleting documents are the operator's: an admin principal
 * (`permissions.isAdmin`), and for a delete also the policy's `write` on the document.
 */
export function requireAdmin(deps: RestDeps, caller: RestCaller, documentId?: string): void {
  if (caller.principal.permissions.isAdmin !== true) {
    throw refuse(403, 'PERMISSION_DENIED', 'Admin permission required')
  }
  if (documentId !== undefined) requireAccess(deps, caller, 'write', documentId)
}

function allowed(
  deps: RestDeps,
  caller: RestCaller,
  action: DocumentAction,
  documentId: string,
  field?: string,
): boolean {
  const request = { principal: caller.principal, action, documentId, context: caller.context }
  return askPolicy(deps.policy, field === undefined ? request : { ...request, field })
}
