import type { EngineCore } from './core.js'
import type { Connection } from './state.js'
import type { Principal } from './types.js'

/** Sets the connection's principal and keeps the per-user rate-limit buckets in step. */
export function assignPrincipal(core: EngineCore, connection: Connection, principal: Principal): void {
  if (connection.principal) releasePrincipal(core, connection)
  connection.principal = principal
  if (principal.via === 'anonymous') return
  const bucket = core.userBuckets.get(principal.userId)
  if (bucket) bucket.connections++
  else {
    core.userBuckets.set(principal.userId, {
      tokens: core.limits.maxMessagesPerMinutePerUser,
      at: core.now,
      connections: 1,
    })
  }
}

export function releasePrincipal(core: EngineCore, connection: Connection): void {
  const principal = connection.principal
  if (!principal || principal.via === 'anonymous') return
  const bucket = core.userBuckets.get(principal.userId)
  if (!bucket) return
  bucket.connections--
  if (bucket.connections <= 0) core.userBuckets.delete(principal.userId)
}
