import { isValidDocumentId } from '../protocol/index.js'
import { fullBucket } from './buckets.js'
import type { EngineCore } from './core.js'
import { completeAuthentication } from './handlers/auth.js'
import { unsubscribeConnection } from './handlers/unsubscribe.js'
import { expirePresence, leaveOnClose } from './presence.js'
import type { Connection } from './state.js'
import type { ConnectionId, ConnectionInfo, ResumedConnection } from './types.js'
import { assignPrincipal, releasePrincipal } from './users.js'

/** A transport accepted a connection. Anonymous mode authenticates it at once, sending nothing. */
export function openConnection(core: EngineCore, id: ConnectionId, info: ConnectionInfo | undefined): void {
  const existing = core.connections.get(id)
  if (existing && !existing.closed) return
  const principal = info?.principal ?? (core.options.anonymous ? core.anonymousPrincipal() : undefined)
  const connection: Connection = {
    id,
    only: Object.freeze([id]),
    ip: info?.ip,
    openedAt: core.now,
    format: undefined,
    authState: principal ? 'authenticated' : 'pending',
    principal: undefined,
    admitted: info?.principal !== undefined,
    context: info?.context,
    preAuth: [],
    preAuthBytes: 0,
    preAuthDocuments: undefined,
    authDeadline: principal ? undefined : core.now + core.limits.authTimeoutMs,
    expiredAt: undefined,
    subscriptions: new Set(),
    awarenessRooms: new Set(),
    awarenessClients: new Map(),
    chunks: undefined,
    tokens: core.limits.maxMessagesPerMinute,
    tokensAt: core.now,
    pings: fullBucket(core.limits.maxPingsPerMinute, core.now),
    invalidFrames: fullBucket(core.limits.maxInvalidFrames, core.now),
    closed: false,
  }
  core.connections.set(id, connection)
  const credentials = info?.credentials
  if (!info?.principal && (credentials?.token || credentials?.apiKey)) {
    // Credentials on the upgrade replace the anonymous grant, as a token in `auth` would.
    connection.authState = 'authenticating'
    connection.authDeadline = core.now + core.limits.authTimeoutMs
    core.out.push({ kind: 'authenticate', conn: id, credentials: { ...credentials } })
    return
  }
  if (!principal) return
  if (info?.principal && info.verifiedCredentials) {
    // Checked at the upgrade: answered as the `auth` message carrying them would have been.
    completeAuthentication(core, connection, principal)
    return
  }
  assignPrincipal(core, connection, principal)
  core.emit({ type: 'authenticated', conn: id, principal })
}

/**
 * A connection that outlived a restart of the server (see `ResumedConnection`). A document still
 * loading holds the subscriber at once, so echoes reach it as soon as the document is ready; only
 * documents the principal may still read are subscribed again.
 */
export function resumeConnection(
  core: EngineCore,
  id: ConnectionId,
  resumed: ResumedConnection,
  ip: string | undefined,
): void {
  openConnection(core, id, {
    ...(ip !== undefined ? { ip } : {}),
    principal: resumed.principal,
    ...(resumed.context !== undefined ? { context: resumed.context } : {}),
  })
  const connection = core.connections.get(id)
  if (!connection || connection.closed) return
  if (resumed.format !== undefined) connection.format = resumed.format
  for (const documentId of resumed.documents) {
    if (!isValidDocumentId(documentId) || !core.authorize(connection, 'read', documentId)) continue
    core.subscribe(connection, core.documents.get(documentId) ?? core.startLoading(documentId))
  }
}

/**
 * The transport closed. Subscriptions end, the presence this connection announced leaves at once
 * (not after a 30-60 s sweep), and nothing pending for other clients is discarded.
 */
export function closeConnection(core: EngineCore, id: ConnectionId): void {
  const connection = core.connections.get(id)
  if (!connection || connection.closed) return
  connection.closed = true
  core.connections.delete(id)
  releasePrincipal(core, connection)
  leaveOnClose(core, connection)
  for (const documentId of [...connection.subscriptions, ...connection.awarenessRooms]) {
    unsubscribeConnection(core, connection, documentId)
  }
  for (const entry of core.documents.values()) {
    // Parked reads of a closed connection would only answer nobody; its parked writes still apply.
    if (entry.status === 'loading') {
      const kept = entry.parked.filter(
        (item) => item.kind !== 'message' || item.connection.id !== id || isWrite(item.message.type),
      )
      entry.parked.splice(0, entry.parked.length, ...kept)
    }
  }
  connection.chunks?.clear()
}

/** Time-driven work: auth deadlines, token expiry, presence expiry, chunk expiry, idle documents. */
export function tickEngine(core: EngineCore): void {
  for (const connection of core.connections.values()) checkDeadlines(core, connection)
  expirePresence(core)
  evictIdleDocuments(core)
}

function checkDeadlines(core: EngineCore, connection: Connection): void {
  const now = core.now
  if (connection.authDeadline !== undefined && now >= connection.authDeadline) {
    const expired = connection.expiredAt !== undefined
    const reason = expired ? 'Token expired' : 'Authentication timeout'
    core.sendError(connection.id, reason, expired ? 'TOKEN_EXPIRED' : 'AUTH_TIMEOUT')
    core.closeConnection(connection.id, 1008, reason)
    connection.authDeadline = undefined
    return
  }
  const expiresAt = connection.principal?.expiresAt
  if (connection.expiredAt === undefined && expiresAt !== undefined && now >= expiresAt) {
    // Tell the client and give it the auth window to send a fresh token without reconnecting.
    connection.expiredAt = now
    connection.authDeadline = now + core.limits.authTimeoutMs
    core.sendTo(connection.id, {
      type: 'auth_error',
      error: 'Token expired',
      details: { code: 'TOKEN_EXPIRED' },
    })
  }
  connection.chunks?.sweep(now)
}

/** Keeps at most `maxIdleDocuments` documents nobody uses in memory, least recently active first. */
function evictIdleDocuments(core: EngineCore): void {
  const idle = [...core.documents.values()].filter(
    (entry) =>
      entry.status === 'ready' &&
      entry.subscribers.size === 0 &&
      entry.inFlight === 0 &&
      entry.dirty.size === 0 &&
      entry.doc?.clockVersion === entry.persistedClockVersion &&
      !entry.touched,
  )
  const excess = idle.length - core.limits.maxIdleDocuments
  if (excess <= 0) return
  idle.sort((a, b) => a.lastActive - b.lastActive)
  for (const entry of idle.slice(0, excess)) {
    core.documents.delete(entry.id)
    core.releaseTopic(entry.id)
    core.emit({ type: 'document-evicted', documentId: entry.id })
  }
}

function isWrite(type: string): boolean {
  return type === 'delta' || type === 'delta_batch'
}
