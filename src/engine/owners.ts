import type { EngineCore } from './core.js'
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
export function ownerKey(core: EngineCore, connection: Connection): string {
  const principal = connection.principal
  if (principal !== undefined && principal.via !== 'anonymous') return `user:${principal.userId}`
  return `${CONNECTION_OWNER}${core.nodeId}/${connection.id}`
}

/** May `connection` use an id recorded with `owner`, last used here by `conn`? */
export function ownsEntry(
  core: EngineCore,
  connection: Connection,
  owner: string | undefined,
  conn: ConnectionId | undefined,
): boolean {
  return conn === connection.id || owner === ownerKey(core, connection)
}

/**
 * True when `clientId` is not `connection`'s to use in `documentId`: the server's own, present
 * there for another owner, or naming another owner's kept text state. An anonymous connection's
 * kept text state is free again once it closed: the client reconnecting has no other identity.
 */
export function clientIdHeldByOther(
  core: EngineCore,
  connection: Connection,
  documentId: string,
  clientId: string,
): boolean {
  if (clientId === SERVER_CLIENT_ID) return true
  const room = core.rooms.get(documentId)
  const present = room?.awareness.get(clientId)
  if (present !== undefined && !ownsEntry(core, connection, present.owner, room?.owners.get(clientId))) {
    return true
  }
  const kept = core.documents.get(documentId)?.textStates.get(clientId)
  if (kept === undefined || ownsEntry(core, connection, kept.owner, kept.conn)) return false
  const released = kept.owner.startsWith(CONNECTION_OWNER) && !core.connections.has(kept.conn)
  return !released
}
