/**
 * Cookie sessions at the door: the `authenticate` hook reads a signed `session` cookie from the
 * WebSocket upgrade request, and `allowedOrigins` keeps other sites from riding on it.
 * docs/security.md shows this file; test/integration/door.test.ts runs it over real sockets.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
// In an application: `from 'synckit-engine'`.
import { createSyncServer, type SyncServer } from '../src/server/index.js'

/** What each connection carries for `authorize`, `validate`, hooks and events. */
export interface SessionContext {
  userId: string
}

/** `<userId>.<HMAC-SHA256>`: what the app's login route sets as the `session` cookie. */
export function signSession(userId: string, secret: string): string {
  return `${userId}.${createHmac('sha256', secret).update(userId).digest('base64url')}`
}

/** The user id of a well-signed session cookie, else undefined (constant-time comparison). */
export function verifySession(cookie: string | undefined, secret: string): string | undefined {
  const dot = cookie?.lastIndexOf('.') ?? -1
  if (!cookie || dot <= 0) return undefined
  const userId = cookie.slice(0, dot)
  const expected = Buffer.from(signSession(userId, secret))
  const given = Buffer.from(cookie)
  return given.length === expected.length && timingSafeEqual(given, expected) ? userId : undefined
}

export function createCookieSessionServer(secret: string): SyncServer<SessionContext> {
  return createSyncServer<SessionContext>({
    // Browsers attach cookies to WebSocket upgrades from any site: name the ones that may.
    allowedOrigins: ['https://app.example.com'],
    auth: {
      authenticate: ({ cookies }) => {
        const userId = verifySession(cookies.session, secret)
        if (!userId) return null // HTTP 401, and no WebSocket is opened
        const own = [`user:${userId}:*`]
        return {
          principal: { userId, permissions: { canRead: own, canWrite: own, isAdmin: false } },
          context: { userId },
        }
      },
    },
  })
}
