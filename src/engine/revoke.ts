import type { EngineCore } from './core.js'
import { unsubscribeConnection } from './handlers/unsubscribe.js'
import type { RevokeTarget } from './types.js'

/**
 * Live revocation. `{userId}`: every connection of that user is closed (1008) and must
 * authenticate again, picking up its new permissions. `{documentId}`: the policy is asked again
 * for every connection on the document and those no longer allowed lose the subscription at once.
 */
export function revoke(core: EngineCore, target: RevokeTarget): void {
  for (const connection of [...core.connections.values()]) {
    if (connection.closed) continue
    if (target.userId !== undefined && connection.principal?.userId === target.userId) {
      core.sendError(connection.id, 'Access revoked', 'ACCESS_REVOKED')
      core.closeConnection(connection.id, 1008, 'Access revoked')
      continue
    }
    const documentId = target.documentId
    if (documentId === undefined) continue
    const watching = connection.subscriptions.has(documentId) || connection.awarenessRooms.has(documentId)
    if (!watching || core.authorize(connection, 'read', documentId)) continue
    unsubscribeConnection(core, connection, documentId)
    core.sendError(connection.id, 'Access revoked', 'ACCESS_REVOKED', { documentId })
  }
}
