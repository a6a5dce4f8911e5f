import type { EngineContext } from './context.js'
import { rbacAllows, rbacPolicy } from './rbac.js'
import type { Connection } from './state.js'
import type { AuthorizeRequest, DocumentAction } from './types.js'

/** Asks the policy; a connection without a principal may do nothing. */
export function authorize(
  ctx: EngineContext,
  connection: Connection,
  action: DocumentAction,
  documentId: string,
  field?: string,
  op?: string,
): boolean {
  const principal = connection.principal
  if (!principal) return false
  try {
    // The default policy reads principal, action and document only: no request object per message.
    if (ctx.policy === rbacPolicy) return rbacAllows(principal, action, documentId)
    const request: AuthorizeRequest = { principal, action, documentId, field, context: connection.context }
    if (op !== undefined) request.op = op
    return ctx.policy(request) === true
  } catch {
    // A throwing custom policy denies: failing closed is the only safe default.
    return false
  }
}

/** Checks `action` on the document and answers `Permission denied` when refused. */
export function checkAccess(
  ctx: EngineContext,
  connection: Connection,
  action: DocumentAction,
  documentId: string,
): boolean {
  if (authorize(ctx, connection, action, documentId)) return true
  ctx.sendError(connection.id, 'Permission denied', 'PERMISSION_DENIED', { documentId })
  return false
}
