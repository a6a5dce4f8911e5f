import { type DoorOptions, passDoor } from '../../src/server/door.js'
import type { Logger } from '../../src/server/logger.js'
import type { AuthOptions } from '../../src/server/options.js'
import { resolveServerOptions } from '../../src/server/resolve-options.js'
import { refusalResponse, upgradeRefusal } from '../../src/server/transport.js'
import { workerUpgradeRequest } from './upgrade-request.js'

/** The parts of the objects' `auth` options the Worker's early check runs. */
export type SyncWorkerAuth = Pick<
  AuthOptions,
  'required' | 'authenticate' | 'verifyCredentials' | 'jwt' | 'apiKeys'
>

interface EarlyDoor {
  readonly door: DoorOptions
  readonly logger: Logger
  /** Not anonymous: the upgrade itself must say who the client is. */
  readonly identityRequired: boolean
}

/**
 * The Worker's early rejection: the identity part of the objects' own upgrade check, built by the
 * same code from the same `auth` options (the `authenticate` hook, then a token or API key on the
 * request), answered with the same status and JSON body. A request it refuses never creates or
 * wakes an object. On top of that, unless the objects are anonymous, the upgrade must establish
 * who the client is: one that would authenticate later with an `auth` message is refused (401),
 * so clients without credentials cannot wake objects either. The object checks everything again
 * (caps, origin, identity): passing here is never enough on its own.
 */
export function earlyCheck<Env>(
  authOf: (env: Env) => SyncWorkerAuth | undefined,
): (request: Request, env: Env) => Promise<Response | undefined> {
  // One door per `env` object (the runtime reuses it between requests).
  const doors = new WeakMap<object, EarlyDoor>()
  const doorFor = (env: Env): EarlyDoor => {
    const key = typeof env === 'object' && env !== null ? env : doors
    let early = doors.get(key)
    if (early === undefined) {
      const auth = authOf(env)
      const resolved = resolveServerOptions(auth ? { auth } : {})
      early = { door: resolved.door, logger: resolved.logger, identityRequired: auth?.required !== false }
      doors.set(key, early)
    }
    return early
  }
  return async (request, env) => {
    const { door, logger, identityRequired } = doorFor(env)
    const upgrade = workerUpgradeRequest(request)
    const decision = await passDoor(door, upgrade, upgrade.remoteAddress, true, (error, operation) =>
      logger.error({ err: error, operation }, `${operation} failed in the Worker's early check`),
    )
    if (!decision.admitted) return refusalResponse(upgradeRefusal(decision.code))
    if (identityRequired && !decision.principal) return refusalResponse(upgradeRefusal('AUTH_FAILED'))
    return undefined
  }
}
