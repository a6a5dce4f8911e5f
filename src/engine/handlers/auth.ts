import type { AuthMessage } from '../../protocol/types.js'
import type { EngineCore } from '../core.js'
import type { Connection } from '../state.js'
import type { Credentials } from '../types.js'
import { assignPrincipal } from '../users.js'
import { unsubscribeConnection } from './unsubscribe.js'

/**
 * `auth` (PROTOCOL.md §2.3). Without credentials: anonymous mode answers `auth_success` (the
 * second dialect waits for it); otherwise `Authentication required` and close. With credentials:
 * an `authenticate` effect; the runtime's answer comes back through `resolve`. Re-sending `auth`
 * on an authenticated connection refreshes its principal (in-band re-auth before expiry).
 */
export function handleAuth(core: EngineCore, connection: Connection, message: AuthMessage): void {
  const credentials: Credentials = {}
  if (message.token) credentials.token = message.token
  if (message.apiKey) credentials.apiKey = message.apiKey
  if (!credentials.token && !credentials.apiKey) {
    // A principal from the door (cookie session, host) still holds: the client is told who it is.
    const current = connection.expiredAt === undefined ? connection.principal : undefined
    if (core.options.anonymous || (connection.admitted && current)) {
      completeAuthentication(core, connection, current ?? core.anonymousPrincipal())
      return
    }
    core.sendError(connection.id, 'Authentication required', 'AUTH_REQUIRED')
    core.closeConnection(connection.id, 1008, 'Authentication required')
    return
  }
  if (connection.authState !== 'authenticated') connection.authState = 'authenticating'
  core.out.push({ kind: 'authenticate', conn: connection.id, credentials })
}

/** Marks the connection authenticated and answers `auth_success`; buffered frames are replayed by the caller. */
export function completeAuthentication(
  core: EngineCore,
  connection: Connection,
  principal: NonNullable<Connection['principal']>,
): void {
  assignPrincipal(core, connection, principal)
  connection.authState = 'authenticated'
  connection.authDeadline = undefined
  connection.expiredAt = undefined
  core.sendTo(connection.id, {
    type: 'auth_success',
    userId: principal.userId,
    permissions: {
      canRead: [...principal.permissions.canRead],
      canWrite: [...principal.permissions.canWrite],
      isAdmin: principal.permissions.isAdmin,
    },
  })
  core.emit({ type: 'authenticated', conn: connection.id, principal })
  dropWhatIsNoLongerReadable(core, connection)
}

/** A re-authenticated connection keeps only the documents and presence its new principal may read. */
function dropWhatIsNoLongerReadable(core: EngineCore, connection: Connection): void {
  for (const documentId of new Set([...connection.subscriptions, ...connection.awarenessRooms])) {
    if (core.authorize(connection, 'read', documentId)) continue
    unsubscribeConnection(core, connection, documentId)
    core.sendError(connection.id, 'Access revoked', 'ACCESS_REVOKED', { documentId })
  }
}
