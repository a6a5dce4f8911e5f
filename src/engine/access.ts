import type { EngineContext } from './context.js'
import { rbacAllows, rbacPolicy } from './rbac.js'
import type { Connection } from './state.js'
import type { AuthorizePolicy, AuthorizeRequest, DocumentAction } from './types.js'

/** The policy's answer; one that throws or answers anything but `true` denies (fails closed). */
export function askPolicy(policy: AuthorizePolicy, request: AuthorizeRequest): boolean {
  try {
    return policy(request) === true
  } catch {
    return false
  }
}

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
  // The default policy reads principal, action and document only: no request object per message.
  if (ctx.policy === rbacPolicy) {
    try {
      return rbacAllows(principal, action, documentId)
    } catch {
      // A malformed principal (an app's authenticate hook) denies, as askPolicy does.
      return false
    }
  }
  const request: AuthorizeRequest = { principal, action, documentId, field, context: connection.context }
  if (op !== undefined) request.op = op
  return askPolicy(ctx.policy, request)
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
