/**
 * The upgrade check in a Durable Object (docs/adapters.md, "Cloudflare Durable Objects",
 * "Authentication"): cookie sessions through `auth.authenticate`, one object per team room, the
 * team from the session as the connection's context. Bundled and run in workerd by
 * test/conformance/workerd-door.test.ts, which reaches the same object three ways:
 * - `/ws`: the Worker checks the session first (early rejection), then the object checks again;
 * - `/direct`: no Worker check, the object's own `sync.upgrade` decides;
 * - `/dated`: an object whose context is not JSON data (a `Date`): served, but not resumable.
 */
import {
  createSyncWorker,
  type DurableObjectNamespace,
  type DurableSyncOptions,
  routeByRoom,
  SyncDurableObject,
} from '../../adapters/cloudflare.js'
import type { AuthOptions } from '../../src/server/index.js'

export interface Env {
  SYNC: DurableObjectNamespace
  DATED: DurableObjectNamespace
  /** `npx wrangler secret put SESSION_SECRET` */
  SESSION_SECRET: string
}

/** What each connection carries for `authorize`, `validate`, hooks and events. */
export interface Session {
  userId: string
  team: string
}

/** The app's auth, for the objects and for the Worker's early check. */
function auth(env: Env): AuthOptions<Session> {
  return {
    // The `session` cookie the app's login route set: `<userId>:<team>.<signature>`.
    authenticate: async ({ cookies }) => {
      const session = await verifySession(cookies.session, env.SESSION_SECRET)
      if (!session) return null // HTTP 401, and no WebSocket
      const permissions = { canRead: ['*'], canWrite: ['*'], isAdmin: false }
      return { principal: { userId: session.userId, permissions }, context: session }
    },
    // A team's documents are `<team>:<name>`: the context says which team the user is in.
    authorize: ({ documentId, context }) =>
      context !== undefined && documentId.startsWith(`${context.team}:`),
  }
}

export class SyncObject extends SyncDurableObject<Env, Session> {
  protected override options(env: Env): DurableSyncOptions<Session> {
    return {
      allowedOrigins: ['https://app.example.com'], // browsers send cookies from any site
      auth: auth(env),
      maxConnectionsPerIp: 2, // per object: the test's clients all come from 127.0.0.1
      tickIntervalMs: 200, // idle, and evicted, sooner after the last frame
    }
  }
}

/** Test only: a context that is not JSON data cannot be kept through hibernation. */
export class DatedObject extends SyncDurableObject<Env> {
  protected override options(env: Env): DurableSyncOptions {
    const authenticate = auth(env).authenticate
    return {
      tickIntervalMs: 200,
      auth: {
        authenticate: async (request) => {
          const admitted = await authenticate?.(request)
          if (!admitted || 'userId' in admitted) return admitted
          return { ...admitted, context: { session: admitted.context, since: new Date(0) } }
        },
      },
    }
  }
}

// wss://<worker>/ws?room=<team>, with the session cookie; GET /health?room=<team> for one object.
const worker = createSyncWorker<Env>({ binding: 'SYNC', route: routeByRoom(), auth, handleHttp: true })
const direct = createSyncWorker<Env>({ binding: 'SYNC', route: routeByRoom(), path: '/direct' })
const dated = createSyncWorker<Env>({
  binding: 'DATED',
  route: routeByRoom(),
  path: '/dated',
  handleHttp: true,
})

export default {
  fetch(request: Request, env: Env): Promise<Response> {
    const { pathname } = new URL(request.url)
    if (pathname === '/direct') return direct.fetch(request, env)
    if (pathname === '/dated') return dated.fetch(request, env)
    return worker.fetch(request, env)
  },
}

const encoder = new TextEncoder()
const keys = new Map<string, Promise<CryptoKey>>()

/** The session a well-signed cookie names (HMAC-SHA256 with Web Crypto), else undefined. */
export async function verifySession(
  cookie: string | undefined,
  secret: string,
): Promise<Session | undefined> {
  const dot = cookie?.lastIndexOf('.') ?? -1
  if (!cookie || dot <= 0) return undefined
  const payload = cookie.slice(0, dot)
  const [userId, team, extra] = payload.split(':')
  if (!userId || !team || extra !== undefined) return undefined
  let signature: Uint8Array<ArrayBuffer>
  try {
    const base64 = cookie
      .slice(dot + 1)
      .replaceAll('-', '+')
      .replaceAll('_', '/')
    signature = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0))
  } catch {
    return undefined
  }
  let key = keys.get(secret)
  if (!key) {
    const usage: KeyUsage[] = ['verify']
    key = crypto.subtle.importKey(
      'raw',
      encoder.encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      usage,
    )
    keys.set(secret, key)
  }
  const valid = await crypto.subtle.verify('HMAC', await key, signature, encoder.encode(payload))
  return valid ? { userId, team } : undefined
}
