import type { Server as HttpServer, IncomingMessage } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import { createRequestListener } from '../src/server/node-http.js'
import { DEFAULT_WS_PATH, type SyncServerTransport } from './transport.js'
import { acceptUpgrade, once, rejectUpgrade, serveConnections, webSocketServerOptions } from './ws-shared.js'

/**
 * `synckit-engine/node`: mount a SyncServer on an existing node:http(s) server, beside Express,
 * Fastify, Hono or anything else that owns its `request` events.
 *
 *   const http = createServer(app)
 *   attachToHttpServer(sync, http)                  // WebSocket upgrades on /ws only
 *   http.listen(8080)
 *
 * Every upgrade on the path is checked by `sync.upgrade` first: a refused one gets its HTTP
 * status and no WebSocket.
 */

export { createRequestListener }

/** Options of `attachToHttpServer`. */
export interface AttachToHttpServerOptions {
  /** WebSocket path. Default `/ws`. */
  path?: string
  /** Also answer `request` events with the SyncKit routes (only for a server nobody else serves).
   *  Default false: upgrades only. Otherwise mount `createRequestListener(sync)` in your framework. */
  handleHttp?: boolean
}

/** What `attachToHttpServer` returns. */
export interface AttachedHttpServer {
  /** The `ws` server that performs the handshakes (no listener of its own). */
  wss: WebSocketServer
  /** Detaches from the HTTP server and closes this adapter's sockets (1001). */
  close(): Promise<void>
}

/** Takes the WebSocket upgrades on `path` of an existing node:http(s) server. */
export function attachToHttpServer(
  sync: SyncServerTransport,
  httpServer: HttpServer | HttpsServer,
  options: AttachToHttpServerOptions = {},
): AttachedHttpServer {
  const path = options.path ?? DEFAULT_WS_PATH
  const wss = new WebSocketServer(webSocketServerOptions(sync))
  const tracked = serveConnections(sync, wss)
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (acceptUpgrade(sync, wss, path, req, socket, head)) return
    // Another listener may own this path (a framework's own WebSocket route): refuse only if alone.
    if (httpServer.listenerCount('upgrade') <= 1) rejectUpgrade(socket)
  }
  httpServer.on('upgrade', onUpgrade)
  const onRequest = options.handleHttp ? createRequestListener(sync) : undefined
  if (onRequest) httpServer.on('request', onRequest)
  const close = once(async () => {
    httpServer.off('upgrade', onUpgrade)
    if (onRequest) httpServer.off('request', onRequest)
    await tracked.close()
    wss.close()
  })
  return { wss, close }
}
