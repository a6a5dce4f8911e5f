import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { type RawData, WebSocket, WebSocketServer, type ServerOptions as WsServerOptions } from 'ws'
import type { ConnectionHandle, SyncServer, SyncSocket, UpgradeRequest } from '../src/server/index.js'
import { createRequestListener } from '../src/server/node-http.js'

/**
 * `synckit-engine/ws`: serve a SyncServer with the `ws` library.
 *
 *   const sync = createSyncServer({ auth: { required: false } })
 *   const { port, close } = await attachWebSocketServer(sync, { port: 8080 })
 */

export interface ListenOptions {
  /** Default 8080; 0 picks a free port. */
  port?: number
  host?: string
  /** WebSocket path. Default `/ws`; upgrades elsewhere get 404. */
  path?: string
}
/** Bring your own `WebSocketServer`: every `connection` it emits is served (paths are yours). */
export interface ExistingServerOptions {
  wss: WebSocketServer
}

export interface AttachedWebSocketServer {
  /** The listening port (0 when the caller's `wss` has no server of its own). */
  port: number
  wss: WebSocketServer
  /** Stops accepting and closes this adapter's sockets (1001). Does not close the SyncServer. */
  close(): Promise<void>
}

const SHUTDOWN_WAIT_MS = 2_000

export async function attachWebSocketServer(
  server: SyncServer,
  options: ListenOptions | ExistingServerOptions = {},
): Promise<AttachedWebSocketServer> {
  if ('wss' in options) return attachToExisting(server, options.wss)
  const path = options.path ?? '/ws'
  const wss = new WebSocketServer(webSocketServerOptions(server))
  const tracked = serveConnections(server, wss)
  const httpServer = createServer(createRequestListener(server))
  httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!acceptUpgrade(wss, path, req, socket, head)) rejectUpgrade(socket)
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

function attachToExisting(server: SyncServer, wss: WebSocketServer): AttachedWebSocketServer {
  const tracked = serveConnections(server, wss)
  const address = wss.options.noServer ? null : safeAddress(wss)
  return { port: address?.port ?? 0, wss, close: once(() => tracked.close()) }
}

/** `ws` settings for a SyncServer: no compression (binary frames barely compress; CPU and memory do
 * not come free), and oversized frames refused by the transport before they are buffered. */
export function webSocketServerOptions(server: SyncServer): WsServerOptions {
  return { noServer: true, perMessageDeflate: false, maxPayload: server.limits.maxPayloadBytes }
}

/** Serves the `wss` `connection` events; `close()` detaches and closes the sockets it served. */
export function serveConnections(server: SyncServer, wss: WebSocketServer): { close(): Promise<void> } {
  const sockets = new Set<WebSocket>()
  const onConnection = (ws: WebSocket, req?: IncomingMessage): void => {
    sockets.add(ws)
    ws.once('close', () => sockets.delete(ws))
    bindWebSocket(server, ws, req)
  }
  wss.on('connection', onConnection)
  return {
    close: async () => {
      wss.off('connection', onConnection)
      await closeSockets(sockets)
    },
  }
}

/** Upgrades requests for `path`; returns false (leaving the socket alone) for any other path. */
export function acceptUpgrade(
  wss: WebSocketServer,
  path: string,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): boolean {
  if (pathnameOf(req.url) !== path) return false
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  return true
}

export function rejectUpgrade(socket: Duplex, status = '404 Not Found'): void {
  socket.on('error', () => socket.destroy())
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
}

/** A turn's frames to one socket are held back (corked) up to this many bytes, then written. */
export const CORK_BYTES = 65_536

interface TurnCork {
  /** Before a send: corks the socket if this is the turn's first. */
  hold(): void
  /** After a send: writes what is held once it passes `limit` bytes. */
  release(limit: number): void
}

const NO_CORK: TurnCork = { hold() {}, release() {} }

/**
 * Frames written to one socket in one turn leave in one `writev` instead of one system call each
 * (a flush can send a socket many field echoes, and its ack): the TCP socket under `ws` is corked
 * at the first send and uncorked once the current callback's synchronous work is done. Past a
 * limit it is uncorked at once, so a large burst streams as before and backpressure is seen in
 * time. A `ws` without its usual `_socket` is simply not corked.
 */
function corkPerTurn(ws: WebSocket): TurnCork {
  const socket = (ws as unknown as { _socket?: Partial<Duplex> })._socket
  if (typeof socket?.cork !== 'function' || typeof socket.uncork !== 'function') return NO_CORK
  const raw = socket as Duplex
  let corked = false
  const uncork = (): void => {
    if (!corked) return
    corked = false
    raw.uncork()
  }
  return {
    hold() {
      if (corked) return
      corked = true
      raw.cork()
      process.nextTick(uncork)
    },
    release(limit) {
      if (corked && ws.bufferedAmount > limit) uncork()
    },
  }
}

/** Wires one `ws` socket to the SyncServer through the `SyncSocket` contract. */
export function bindWebSocket(server: SyncServer, ws: WebSocket, req?: IncomingMessage): ConnectionHandle {
  const { highWaterMark } = server.limits
  const cork = corkPerTurn(ws)
  const corkLimit = Math.min(CORK_BYTES, highWaterMark)
  let handle: ConnectionHandle | undefined
  let pressured = false
  // One callback for every write: it is how a `ws` socket says its buffer drained.
  const onWritten = (): void => {
    if (pressured && ws.bufferedAmount <= highWaterMark) {
      pressured = false
      handle?.drained()
    }
  }
  const socket: SyncSocket = {
    send(data) {
      if (ws.readyState !== WebSocket.OPEN) return 0
      cork.hold()
      try {
        ws.send(data, onWritten)
      } catch {
        return 0
      }
      cork.release(corkLimit)
      if (ws.bufferedAmount > highWaterMark) {
        pressured = true
        return -1
      }
      return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength
    },
    close(code, reason) {
      try {
        ws.close(code, reason)
      } catch {
        ws.terminate()
      }
    },
    ping() {
      if (ws.readyState === WebSocket.OPEN) ws.ping()
    },
    bufferedAmount: () => ws.bufferedAmount,
    terminate: () => ws.terminate(),
  }
  handle = server.handleConnection(socket, upgradeRequest(req))
  const connection = handle
  ws.on('message', (data: RawData, isBinary: boolean) => {
    connection.receive(isBinary ? toBytes(data) : toText(data))
  })
  ws.on('pong', () => connection.pong())
  // A client's own protocol ping is a sign of life too.
  ws.on('ping', () => connection.pong())
  ws.on('close', () => connection.closed())
  ws.on('error', () => {
    // `close` always follows; nothing else to do.
  })
  return connection
}

export function upgradeRequest(req: IncomingMessage | undefined): UpgradeRequest {
  if (!req) return {}
  const request: UpgradeRequest = { headers: req.headers }
  if (req.socket.remoteAddress !== undefined) request.remoteAddress = req.socket.remoteAddress
  if (req.url !== undefined) request.url = req.url
  return request
}

/** A view, not a copy, whenever `ws` hands over a single buffer (the default `nodebuffer`). */
function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data)
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  return data
}

function toText(data: RawData): string {
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(toBytes(data)).toString('utf8')
}

function pathnameOf(url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname
  } catch {
    return ''
  }
}

function safeAddress(wss: WebSocketServer): AddressInfo | null {
  try {
    const address = wss.address()
    return typeof address === 'object' ? address : null
  } catch {
    return null
  }
}

/** Close 1001 and wait (bounded) for the handshakes; stragglers are terminated. */
export async function closeSockets(sockets: Set<WebSocket>): Promise<void> {
  const pending = [...sockets].map(
    (ws) =>
      new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve()
        ws.once('close', () => resolve())
        try {
          ws.close(1001, 'Server shutdown')
        } catch {
          ws.terminate()
        }
      }),
  )
  let timer: ReturnType<typeof setTimeout> | undefined
  await Promise.race([
    Promise.all(pending),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, SHUTDOWN_WAIT_MS)
    }),
  ])
  clearTimeout(timer)
  for (const ws of sockets) ws.terminate()
}

export function once(task: () => Promise<void>): () => Promise<void> {
  let result: Promise<void> | undefined
  return () => {
    result ??= task()
    return result
  }
}
