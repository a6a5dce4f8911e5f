import type { Permissions } from '../protocol/types.js'
import { authDeadlinePassed, authTransition } from './auth-state.js'
import type { EngineContext } from './context.js'
import { ANONYMOUS_PERMISSIONS } from './limits.js'
import { joinUserBucket, leaveUserBucket } from './rate-limits.js'
import type { Connection } from './state.js'
import { dropUnreadable, watchedDocuments } from './subscriptions.js'
import type { Credentials, Principal } from './types.js'

/** The principal of anonymous mode: frozen, so no policy or listener can change it for everyone. */
export function anonymousPrincipal(ctx: EngineContext): Principal {
  // One frozen principal for every anonymous connection: a copy each was most of their heap.
  ctx.anonymousPrincipal ??= freezePrincipal(ctx.options.anonymousPermissions ?? ANONYMOUS_PERMISSIONS)
  return ctx.anonymousPrincipal
}

function freezePrincipal(permissions: Permissions): Principal {
  return Object.freeze({
    userId: 'anonymous',
    permissions: Object.freeze({
      ...permissions,
      canRead: Object.freeze([...permissions.canRead]),
      canWrite: Object.freeze([...permissions.canWrite]),
    }),
    via: 'anonymous',
  }) as Principal
}

/** Sets the connection's principal and moves it to that user's rate-limit bucket. */
export function assignPrincipal(ctx: EngineContext, connection: Connection, principal: Principal): void {
  leaveUserBucket(ctx, connection.principal)
  connection.principal = principal
  joinUserBucket(ctx, principal)
}

/** Credentials arrived (in `auth` or on the upgrade): the runtime verifies them and resolves. */
export function verifyCredentials(
  ctx: EngineContext,
  connection: Connection,
  credentials: Credentials,
): void {
  authTransition(connection, 'credentials', ctx.now, ctx.limits.authTimeoutMs)
  ctx.effect({ kind: 'authenticate', conn: connection.id, credentials })
}

/**
 * The connection is authenticated as `principal`: `auth_success`, and a re-authenticated
 * connection keeps only the documents and presence its new principal may read. Buffered frames
 * are replayed by the caller (`replayBuffered`).
 */
export function completeAuthentication(
  ctx: EngineContext,
  connection: Connection,
  principal: Principal,
): void {
  assignPrincipal(ctx, connection, principal)
  authTransition(connection, 'verified', ctx.now, ctx.limits.authTimeoutMs)
  ctx.sendTo(connection.id, {
    type: 'auth_success',
    userId: principal.userId,
    permissions: {
      canRead: [...principal.permissions.canRead],
      canWrite: [...principal.permissions.canWrite],
      isAdmin: principal.permissions.isAdmin,
    },
  })
  ctx.emit({ type: 'authenticated', conn: connection.id, principal })
  dropUnreadable(ctx, connection, watchedDocuments(connection))
}

/** The credentials did not verify: `auth_error` and close (never a downgrade to anonymous). */
export function failAuthentication(ctx: EngineContext, connection: Connection, reason: string): void {
  ctx.sendTo(connection.id, {
    type: 'auth_error',
    error: 'Authentication failed',
    details: { code: 'AUTH_FAILED' },
  })
  ctx.emit({ type: 'protocol-error', conn: connection.id, code: 'AUTH_FAILED', message: reason })
  ctx.requestClose(connection.id, 1008, 'Authentication failed')
}

/** `auth` without credentials where they are required: refused and closed. */
export function requireAuthentication(ctx: EngineContext, connection: Connection): void {
  ctx.sendError(connection.id, 'Authentication required', 'AUTH_REQUIRED')
  ctx.requestClose(connection.id, 1008, 'Authentication required')
}

/**
 * Time-driven authentication: a connection past its deadline (never authenticated, or no fresh
 * token after expiry) is refused and closed; a principal whose token just expired is told, and
 * given the auth window to send a fresh one without reconnecting. Returns true when it is closing.
 */
export function checkAuthDeadlines(ctx: EngineContext, connection: Connection): boolean {
  const now = ctx.now
  const auth = connection.auth
  if (auth.phase !== 'authenticated') {
    if (auth.deadline === undefined || now < auth.deadline) return false
    const expired = auth.phase === 'expired'
    const reason = expired ? 'Token expired' : 'Authentication timeout'
    ctx.sendError(connection.id, reason, expired ? 'TOKEN_EXPIRED' : 'AUTH_TIMEOUT')
    ctx.requestClose(connection.id, 1008, reason)
    authDeadlinePassed(connection)
    return true
  }
  const expiresAt = connection.principal?.expiresAt
  if (expiresAt !== undefined && now >= expiresAt) {
    authTransition(connection, 'token-expired', now, ctx.limits.authTimeoutMs)
    ctx.sendTo(connection.id, {
      type: 'auth_error',
      error: 'Token expired',
      details: { code: 'TOKEN_EXPIRED' },
    })
  }
  return false
}
