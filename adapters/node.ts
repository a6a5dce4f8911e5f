import type { Server as HttpServer, IncomingMessage } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import type { SyncServer } from '../src/server/index.js'
import { createRequestListener } from '../src/server/node-http.js'
import { acceptUpgrade, once, rejectUpgrade, serveConnections, webSocketServerOptions } from './ws.js'

/**
 * `synckit-engine/node`: mount a SyncServer on an existing node:http(s) server, beside Express,
 * Fastify, Hono or anything else that owns its `request` events.
 *
 *   const http = createServer(app)
 *   attachToHttpServer(sync, http)                  // WebSocket upgrades on /ws only
 *   http.listen(8080)
 */

export { createRequestListener }

export interface AttachToHttpServerOptions {
  /** WebSocket path. Default `/ws`. */
  path?: string
  /** Also answer `request` events with the SyncKit routes (only for a server nobody else serves).
   *  Default false: upgrades only. Otherwise mount `createRequestListener(sync)` in your framework. */
  handleHttp?: boolean
}

export interface AttachedHttpServer {
  wss: WebSocketServer
  /** Detaches from the HTTP server and closes this adapter's sockets (1001). */
  close(): Promise<void>
}

export function attachToHttpServer(
  server: SyncServer,
  httpServer: HttpServer | HttpsServer,
  options: AttachToHttpServerOptions = {},
): AttachedHttpServer {
  const path = options.path ?? '/ws'
  const wss = new WebSocketServer(webSocketServerOptions(server))
  const tracked = serveConnections(server, wss)
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (acceptUpgrade(wss, path, req, socket, head)) return
    // Another listener may own this path (a framework's own WebSocket route): refuse only if alone.
    if (httpServer.listenerCount('upgrade') <= 1) rejectUpgrade(socket)
  }
  httpServer.on('upgrade', onUpgrade)
  const onRequest = options.handleHttp ? createRequestListener(server) : undefined
  if (onRequest) httpServer.on('request', onRequest)
  const close = once(async () => {
    httpServer.off('upgrade', onUpgrade)
    if (onRequest) httpServer.off('request', onRequest)
    await tracked.close()
    wss.close()
  })
  return { wss, close }
}
