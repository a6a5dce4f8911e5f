import type { Principal } from '../../engine/types.js'
import { passDoor } from '../door.js'
import type { UpgradeRequest } from '../transport.js'
import type { RestDeps } from './deps.js'
import { refuse } from './responses.js'

/** Who a REST request acts as, and the app context the door gave it (seen by `authorize`). */
export interface RestCaller {
  readonly principal: Principal
  readonly context: unknown
}

const CHALLENGE = 'Bearer realm="synckit"'

/**
 * The door of the WebSocket upgrade, for one request: `auth.authenticate`, then a JWT
 * (`Authorization: Bearer`) or an API key (`X-API-Key`). Without credentials, anonymous mode
 * grants its permissions and auth-required mode answers 401. Bad credentials are 401 in either
 * mode, never a downgrade to anonymous. Throws `RestRefusal`.
 */
export async function identify(request: Request, deps: RestDeps): Promise<RestCaller> {
  const url = new URL(request.url)
  // Query strings end up in access logs: a REST token belongs in the Authorization header.
  if (url.searchParams.has('token')) {
    throw refuse(400, 'INVALID_INPUT', 'Send the token in the Authorization header, not in ?token=')
  }
  const upgrade: UpgradeRequest = { headers: request.headers, url: `${url.pathname}${url.search}` }
  if (deps.originAllowed && !deps.originAllowed(upgrade)) {
    throw refuse(403, 'ORIGIN_NOT_ALLOWED', 'Origin not allowed')
  }
  const decision = await passDoor(deps.door, upgrade, deps.clientIp(upgrade), true, deps.fail)
  if (!decision.admitted) {
    if (decision.code === 'AUTH_FAILED') {
      throw unauthorized('AUTH_FAILED', 'Authentication failed', `${CHALLENGE}, error="invalid_token"`)
    }
    throw refuse(503, 'AUTH_UNAVAILABLE', 'Authentication unavailable')
  }
  if (decision.principal) return { principal: decision.principal, context: decision.context }
  const anonymous = deps.anonymousPermissions
  if (!anonymous) throw unauthorized('AUTH_REQUIRED', 'Authentication required', CHALLENGE)
  const permissions = { ...anonymous, canRead: [...anonymous.canRead], canWrite: [...anonymous.canWrite] }
  return { principal: { userId: 'anonymous', permissions, via: 'anonymous' }, context: decision.context }
}

function unauthorized(code: 'AUTH_REQUIRED' | 'AUTH_FAILED', message: string, challenge: string) {
  const refusal = refuse(401, code, message)
  refusal.response.headers.set('WWW-Authenticate', challenge)
  return refusal
}
