import { attachWebSocketServer } from '../../adapters/ws.js'
import { signAccessToken } from '../../src/auth/tokens.js'
import type { Permissions } from '../../src/protocol/types.js'
import { createSyncServer, type SyncServer, type SyncServerOptions } from '../../src/server/index.js'

/** A real server with the REST API on a free port of 127.0.0.1: JWTs and API keys both verify. */

export const JWT_SECRET = 'rest-test-secret-0123456789abcdef'
export const ADMIN_KEY = 'admin-key-0123456789'
export const READER_KEY = 'reader-key-0123456789'

export interface RestServer {
  sync: SyncServer
  /** `http://127.0.0.1:<port>` */
  http: string
  /** `ws://127.0.0.1:<port>/ws` */
  ws: string
}

export async function startRestServer(
  cleanups: (() => Promise<void>)[],
  options: SyncServerOptions = {},
): Promise<RestServer> {
  const sync = createSyncServer({
    rest: true,
    ...options,
    auth: {
      jwt: { secret: JWT_SECRET },
      apiKeys: [
        { key: ADMIN_KEY, userId: 'ops', permissions: { canRead: ['*'], canWrite: ['*'], isAdmin: true } },
        { key: READER_KEY, userId: 'auditor', permissions: { canRead: ['*'], canWrite: [], isAdmin: false } },
      ],
      ...options.auth,
    },
  })
  const attached = await attachWebSocketServer(sync, { port: 0, host: '127.0.0.1' })
  cleanups.push(
    () => attached.close(),
    () => sync.close(),
  )
  return { sync, http: `http://127.0.0.1:${attached.port}`, ws: `ws://127.0.0.1:${attached.port}/ws` }
}

/** A JWT for `userId` with `permissions`, signed with `JWT_SECRET`. */
export function tokenFor(userId: string, permissions: Partial<Permissions>): Promise<string> {
  return signAccessToken(
    { userId, permissions: { canRead: [], canWrite: [], isAdmin: false, ...permissions } },
    { secret: JWT_SECRET, expiresIn: '1h' },
  )
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` })
export const apiKey = (key: string): Record<string, string> => ({ 'x-api-key': key })
export const JSON_BODY: Record<string, string> = { 'content-type': 'application/json' }
