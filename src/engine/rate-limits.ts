import { refillBucket, takeFromBucket } from './buckets.js'
import type { EngineContext } from './context.js'
import type { Connection } from './state.js'
import type { Principal } from './types.js'

/**
 * A message costs a token from the connection's bucket and, for an authenticated user, one from
 * the user's bucket too. The connection's token is taken only when both have one. Anonymous
 * connections all share one user id, so they are limited per connection only.
 */
export function takeMessageToken(ctx: EngineContext, connection: Connection): boolean {
  if (refillBucket(connection.messages, ctx.limits.maxMessagesPerMinute, ctx.now) < 1) return false
  const principal = connection.principal
  if (principal && principal.via !== 'anonymous') {
    const bucket = ctx.userBuckets.get(principal.userId)
    if (bucket && !takeFromBucket(bucket, ctx.limits.maxMessagesPerMinutePerUser, ctx.now)) return false
  }
  connection.messages.tokens -= 1
  return true
}

/** A connection now acts as `principal`: it shares the user's bucket (created full if new). */
export function joinUserBucket(ctx: EngineContext, principal: Principal): void {
  if (principal.via === 'anonymous') return
  const bucket = ctx.userBuckets.get(principal.userId)
  if (bucket) bucket.connections++
  else {
    ctx.userBuckets.set(principal.userId, {
      tokens: ctx.limits.maxMessagesPerMinutePerUser,
      at: ctx.now,
      connections: 1,
    })
  }
}

/** A connection stopped acting as `principal` (closed, or re-authenticated as someone else). */
export function leaveUserBucket(ctx: EngineContext, principal: Principal | undefined): void {
  if (!principal || principal.via === 'anonymous') return
  const bucket = ctx.userBuckets.get(principal.userId)
  if (!bucket) return
  bucket.connections--
  if (bucket.connections <= 0) ctx.userBuckets.delete(principal.userId)
}
