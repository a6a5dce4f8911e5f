import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import { createRequestListener } from '../src/server/node-http.js'
import { DEFAULT_WS_PATH, type SyncServerTransport } from './transport.js'
import { acceptUpgrade, once, rejectUpgrade, serveConnections, webSocketServerOptions } from './ws-shared.js'

// Building blocks for a host that runs its own `ws` server (see docs/adapters.md).
export { acceptUpgrade, bindWebSocket, upgradeRequest } from './ws-shared.js'

/**
 * `synckit-engine/ws`: serve a SyncServer with the `ws` library. Every upgrade on the path is
 * checked by `sync.upgrade` first: a refused one gets its HTTP status and no WebSocket.
 *
 *   const sync = createSyncServer({ auth: { required: false } })
 *   const { port, close } = await attachWebSocketServer(sync, { port: 8080 })
 */

/** `attachWebSocketServer` with a listener of its own. */
export interface ListenOptions {
  /** Default 8080; 0 picks a free port. */
  port?: number
  host?: string
  /** WebSocket path. Default `/ws`; upgrades elsewhere get 404. */
  path?: string
}
/**
 * Bring your own `WebSocketServer`: every `connection` it emits is served (paths are yours). Its
 * handshakes happen before the server is asked, so refusals are close codes, not HTTP statuses;
 * route upgrades through `acceptUpgrade` to refuse them with a status.
 */
export interface ExistingServerOptions {
  /** The server whose `connection` events are served. */
  wss: WebSocketServer
}

/** What `attachWebSocketServer` returns. */
export interface AttachedWebSocketServer {
  /** The listening port (0 when the caller's `wss` has no server of its own). */
  port: number
  wss: WebSocketServer
  /** Stops accepting and closes this adapter's sockets (1001). Does not close the SyncServer. */
  close(): Promise<void>
}

/** Serves `sync` on a `node:http` server of its own (HTTP routes and upgrades), or on your `wss`. */
export async function attachWebSocketServer(
  sync: SyncServerTransport,
  options: ListenOptions | ExistingServerOptions = {},
): Promise<AttachedWebSocketServer> {
  if ('wss' in options) return attachToExisting(sync, options.wss)
  const path = options.path ?? DEFAULT_WS_PATH
  const wss = new WebSocketServer(webSocketServerOptions(sync))
  const tracked = serveConnections(sync, wss)
  const httpServer = createServer(createRequestListener(sync))
  httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!acceptUpgrade(sync, wss, path, req, socket, head)) rejectUpgrade(socket)
  })
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject)
    httpServer.listen(options.port ?? 8080, options.host, () => {
      httpServer.off('error', reject)
      resolve()
    })
  })
  const port = (httpServer.address() as AddressInfo).port
  const close = once(async () => {
    await tracked.close()
    wss.close()
    await new Promise<void>((resolve) => {
      httpServer.close(() => resolve())
      httpServer.closeAllConnections()
    })
  })
  return { port, wss, close }
}

function attachToExisting(sync: SyncServerTransport, wss: WebSocketServer): AttachedWebSocketServer {
  const tracked = serveConnections(sync, wss)
  const address = wss.options.noServer ? null : safeAddress(wss)
  return { port: address?.port ?? 0, wss, close: once(() => tracked.close()) }
}

function safeAddress(wss: WebSocketServer): AddressInfo | null {
  try {
    const address = wss.address()
    return typeof address === 'object' ? address : null
  } catch {
    return null
  }
}
