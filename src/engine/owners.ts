import type { EngineContext } from './context.js'
import type { Connection } from './state.js'
import type { ConnectionId } from './types.js'

/** The client id of the server's own echoes: no client may use it. */
export const SERVER_CLIENT_ID = 'server'
/** Owner of presence a node of the previous version sent without one: no local connection is it. */
export const UNKNOWN_REMOTE_OWNER = 'remote'
const CONNECTION_OWNER = 'connection:'

/**
 * Who the client ids a connection uses belong to (presence, kept text states, relayed ops). An
 * authenticated user owns them on every connection and node, so an SDK that reconnects on a new
 * socket before the old one is found dead keeps its id. Anonymous connections share one user id,
 * so each owns its own ids, until it closes.
 */
export function ownerKey(ctx: EngineContext, connection: Connection): string {
  const principal = connection.principal
  if (principal !== undefined && principal.via !== 'anonymous') return `user:${principal.userId}`
  return `${CONNECTION_OWNER}${ctx.nodeId}/${connection.id}`
}

/**
 * True when `clientId` is not `connection`'s to use in `documentId`: the server's own, present
 * there for another owner, or naming another owner's kept text state (see `claimEnded`).
 * Presence, text states and relayed ops share one namespace of client ids per document.
 */
export function clientIdHeldByOther(
  ctx: EngineContext,
  connection: Connection,
  documentId: string,
  clientId: string,
): boolean {
  return heldByOther(ctx, documentId, clientId, ownerKey(ctx, connection), connection.id)
}

/** The same rule for `owner`, speaking through the local connection `conn` (none: another node). */
export function heldByOther(
  ctx: EngineContext,
  documentId: string,
  clientId: string,
  owner: string,
  conn: ConnectionId | undefined,
): boolean {
  if (clientId === SERVER_CLIENT_ID) return true
  const room = ctx.rooms.get(documentId)
  const present = room?.awareness.get(clientId)
  if (
    present !== undefined &&
    present.owner !== owner &&
    (conn === undefined || room?.owners.get(clientId) !== conn)
  ) {
    return true
  }
  const kept = ctx.documents.get(documentId)?.textStates.get(clientId)
  if (kept === undefined || kept.owner === owner || kept.conn === conn) return false
  return !claimEnded(ctx, kept.owner, kept.conn)
}

/** An anonymous connection's claim ends when it closes: the client reconnecting has no other identity. */
export function claimEnded(ctx: EngineContext, owner: string, conn: ConnectionId): boolean {
  return owner.startsWith(CONNECTION_OWNER) && !ctx.connections.has(conn)
}
