import { type DurableSyncOptions, DurableSyncServer } from './cloudflare/durable-server.js'
import type { DurableObjectState, HibernatableWebSocket } from './cloudflare/runtime-types.js'

/**
 * `synckit-engine/cloudflare`: the sync server in Cloudflare Durable Objects, with WebSocket
 * hibernation and each object's SQLite storage, and a Worker that routes `/ws` to the object of
 * each document or room. Nothing here needs Node: it runs in workerd without `nodejs_compat`.
 *
 *   export class SyncObject extends SyncDurableObject<Env> {
 *     protected override options(env: Env) { return { auth: { jwt: { secret: env.JWT_SECRET } } } }
 *   }
 *   export default createSyncWorker<Env>({ binding: 'SYNC', route: routeByDocument() })
 *
 * Each object checks every upgrade with `sync.upgrade` (caps, `allowedOrigins`,
 * `auth.authenticate`, credentials), as every other transport does; the Worker's `auth` option
 * adds an early rejection.
 */

export type { DurableSyncOptions } from './cloudflare/durable-server.js'
export { DurableSyncServer } from './cloudflare/durable-server.js'
export type { SyncWorkerAuth } from './cloudflare/early-check.js'
export type {
  DurableObjectNamespace,
  DurableObjectState,
  DurableObjectStorage,
  HibernatableWebSocket,
  SqlStorage,
} from './cloudflare/runtime-types.js'
export type { DocumentScope } from './cloudflare/scope.js'
export { DurableObjectSqlStore } from './cloudflare/sql-store.js'
export {
  createSyncWorker,
  forwardToSyncObject,
  routeByDocument,
  routeByRoom,
  routeToObject,
  type SyncRoute,
  type SyncRouteTarget,
  type SyncWorkerOptions,
} from './cloudflare/worker.js'

/**
 * A ready Durable Object class: export a subclass from your Worker and bind it in wrangler.toml
 * (a `new_sqlite_classes` migration). Override `options(env)` (a method: it runs in the
 * constructor, before subclass fields exist) to configure the server. `Context` is the app
 * context `auth.authenticate` gives each connection (JSON data, to outlive hibernation).
 */
export class SyncDurableObject<Env = unknown, Context = unknown> {
  readonly sync: DurableSyncServer<Context>

  constructor(ctx: DurableObjectState, env: Env) {
    this.sync = new DurableSyncServer<Context>(ctx, this.options(env))
  }

  /** The server's options for this object. Default: authentication required, nothing configured. */
  protected options(_env: Env): DurableSyncOptions<Context> {
    return {}
  }

  /** Requests the Worker forwarded: upgrades pass the upgrade check, the rest are HTTP routes. */
  fetch(request: Request): Promise<Response> {
    return this.sync.fetch(request)
  }

  /** The Hibernation API's frame callback (the object may have just woken up). */
  webSocketMessage(socket: HibernatableWebSocket, message: string | ArrayBuffer): void {
    this.sync.webSocketMessage(socket, message)
  }

  /** The Hibernation API's close callback. */
  webSocketClose(socket: HibernatableWebSocket, code: number, reason: string): void {
    this.sync.webSocketClose(socket, code, reason)
  }

  /** The Hibernation API's error callback: the socket is gone. */
  webSocketError(socket: HibernatableWebSocket): void {
    this.sync.webSocketError(socket)
  }
}
