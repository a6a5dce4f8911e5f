import type { AuthMessage } from '../../protocol/types.js'
import {
  anonymousPrincipal,
  completeAuthentication,
  requireAuthentication,
  verifyCredentials,
} from '../authentication.js'
import type { EngineContext } from '../context.js'
import type { Connection } from '../state.js'
import type { Credentials } from '../types.js'

/**
 * `auth` (docs/protocol.md §4.3). Without credentials: anonymous mode answers `auth_success` (the
 * second dialect waits for it); otherwise `Authentication required` and close. With credentials:
 * an `authenticate` effect; the runtime's answer comes back through `resolve`. Re-sending `auth`
 * on an authenticated connection refreshes its principal (in-band re-auth before expiry).
 */
export function handleAuth(ctx: EngineContext, connection: Connection, message: AuthMessage): void {
  const credentials: Credentials = {}
  if (message.token) credentials.token = message.token
  if (message.apiKey) credentials.apiKey = message.apiKey
  if (credentials.token || credentials.apiKey) return verifyCredentials(ctx, connection, credentials)
  // A principal from the door (cookie session, host) still holds: the client is told who it is.
  const current = connection.auth.phase === 'expired' ? undefined : connection.principal
  if (ctx.options.anonymous || (connection.admitted && current)) {
    completeAuthentication(ctx, connection, current ?? anonymousPrincipal(ctx))
    return
  }
  requireAuthentication(ctx, connection)
}
