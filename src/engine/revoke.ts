import type { EngineContext } from './context.js'
import { dropUnreadable } from './subscriptions.js'
import type { RevokeTarget } from './types.js'

/**
 * Live revocation. `{userId}`: every connection of that user is closed (1008) and must
 * authenticate again, picking up its new permissions. `{documentId}`: the policy is asked again
 * for every connection on the document and those no longer allowed lose the subscription at once.
 */
export function revoke(ctx: EngineContext, target: RevokeTarget): void {
  for (const connection of [...ctx.connections.values()]) {
    if (connection.closed) continue
    if (target.userId !== undefined && connection.principal?.userId === target.userId) {
      ctx.sendError(connection.id, 'Access revoked', 'ACCESS_REVOKED')
      ctx.requestClose(connection.id, 1008, 'Access revoked')
      continue
    }
    const documentId = target.documentId
    if (documentId === undefined) continue
    const watching = connection.subscriptions.has(documentId) || connection.awarenessRooms.has(documentId)
    if (watching) dropUnreadable(ctx, connection, [documentId])
  }
}
