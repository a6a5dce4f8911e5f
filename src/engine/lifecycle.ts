import { isValidDocumentId } from '../protocol/index.js'
import { authorize } from './access.js'
import { openingAuth } from './auth-state.js'
import {
  anonymousPrincipal,
  assignPrincipal,
  checkAuthDeadlines,
  completeAuthentication,
} from './authentication.js'
import { fullBucket } from './buckets.js'
import type { EngineContext } from './context.js'
import { DocumentIds } from './document-ids.js'
import { evictIdleDocuments, startLoad } from './documents.js'
import { expirePresence, leaveOnClose } from './presence.js'
import { leaveUserBucket } from './rate-limits.js'
import type { Connection } from './state.js'
import { subscribe, unsubscribe, watchedDocuments } from './subscriptions.js'
import type { ConnectionId, ConnectionInfo, ResumedConnection } from './types.js'

/** A transport accepted a connection. Anonymous mode authenticates it at once, sending nothing. */
export function openConnection(ctx: EngineContext, id: ConnectionId, info: ConnectionInfo | undefined): void {
  const existing = ctx.connections.get(id)
  if (existing && !existing.closed) return
  const principal = info?.principal ?? (ctx.options.anonymous ? anonymousPrincipal(ctx) : undefined)
  const credentials = info?.credentials
  // Credentials on the upgrade replace the anonymous grant, as a token in `auth` would.
  const verifying = !info?.principal && (credentials?.token || credentials?.apiKey)
  const start = verifying ? 'authenticating' : principal ? 'authenticated' : 'pending'
  const connection: Connection = {
    id,
    toSelf: Object.freeze([id]),
    ip: info?.ip,
    format: undefined,
    dialect: undefined,
    auth: openingAuth(start, ctx.now, ctx.limits.authTimeoutMs),
    principal: undefined,
    admitted: info?.principal !== undefined,
    context: info?.context,
    preAuth: [],
    preAuthBytes: 0,
    preAuthDocuments: undefined,
    subscriptions: new DocumentIds(),
    awarenessRooms: new DocumentIds(),
    awarenessClients: undefined,
    chunks: undefined,
    messages: fullBucket(ctx.limits.maxMessagesPerMinute, ctx.now),
    pings: fullBucket(ctx.limits.maxPingsPerMinute, ctx.now),
    invalidFrames: fullBucket(ctx.limits.maxInvalidFrames, ctx.now),
    closed: false,
  }
  ctx.connections.set(id, connection)
  if (verifying) {
    ctx.effect({ kind: 'authenticate', conn: id, credentials: { ...credentials } })
    return
  }
  if (!principal) return
  if (info?.principal && info.verifiedCredentials) {
    // Checked at the upgrade: answered as the `auth` message carrying them would have been.
    completeAuthentication(ctx, connection, principal)
    return
  }
  assignPrincipal(ctx, connection, principal)
  ctx.emit({ type: 'authenticated', conn: id, principal })
}

/**
 * A connection that outlived a restart of the server (see `ResumedConnection`). A document still
 * loading holds the subscriber at once, so echoes reach it as soon as the document is ready; only
 * documents the principal may still read are subscribed again.
 */
export function resumeConnection(
  ctx: EngineContext,
  id: ConnectionId,
  resumed: ResumedConnection,
  ip: string | undefined,
): void {
  openConnection(ctx, id, {
    ...(ip !== undefined ? { ip } : {}),
    principal: resumed.principal,
    ...(resumed.context !== undefined ? { context: resumed.context } : {}),
  })
  const connection = ctx.connections.get(id)
  if (!connection || connection.closed) return
  if (resumed.format !== undefined) connection.format = resumed.format
  for (const documentId of resumed.documents) {
    if (!isValidDocumentId(documentId) || !authorize(ctx, connection, 'read', documentId)) continue
    subscribe(ctx, connection, ctx.documents.get(documentId) ?? startLoad(ctx, documentId))
  }
}

/**
 * The transport closed (either side; `requestClose` only asks for it). Subscriptions end, the
 * presence this connection announced leaves at once (not after a 30-60 s sweep), and nothing
 * pending for other clients is discarded.
 */
export function connectionClosed(ctx: EngineContext, id: ConnectionId): void {
  const connection = ctx.connections.get(id)
  if (!connection || connection.closed) return
  connection.closed = true
  ctx.connections.delete(id)
  leaveUserBucket(ctx, connection.principal)
  leaveOnClose(ctx, connection)
  for (const documentId of watchedDocuments(connection)) {
    unsubscribe(ctx, connection, documentId)
  }
  // Only what the connection holds is visited: a disconnect storm must not cost connections times
  // documents. Its parked reads are skipped when their document arrives (`resolve.ts`).
  connection.chunks?.clear()
}

/** Time-driven work: auth deadlines, token expiry, presence expiry, chunk expiry, idle documents. */
export function tickEngine(ctx: EngineContext): void {
  for (const connection of ctx.connections.values()) {
    if (!checkAuthDeadlines(ctx, connection)) connection.chunks?.sweep(ctx.now)
  }
  expirePresence(ctx)
  evictIdleDocuments(ctx)
}
