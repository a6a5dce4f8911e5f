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
    bind(server, ws, req, sockets)
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

/**
 * One `ws` socket as a `SyncSocket`: a single object per connection with its methods on the
 * prototype and listeners shared by every socket (each finds its binding on the `ws`), since a
 * server holds tens of thousands of these and every closure is heap and GC work per connection.
 *
 * Frames written in one turn leave in one `writev` instead of one system call each (a flush can
 * send a socket many field echoes, and its ack): the TCP socket under `ws` is corked at the
 * turn's first send and uncorked once the current callback's synchronous work is done
 * (`process.nextTick`). Past `CORK_BYTES` (or the high-water mark) it is uncorked at once, so a
 * large burst streams as before and backpressure is seen in time. A `ws` without its usual
 * `_socket` is simply not corked.
 */
class WsBinding implements SyncSocket {
  handle: ConnectionHandle = REFUSED_HANDLE
  /** `serveConnections` forgets the socket when it closes. */
  tracked: Set<WebSocket> | undefined
  #pressured = false
  #corked = false
  readonly #raw: Duplex | undefined
  readonly #highWaterMark: number
  readonly #corkLimit: number
  /** The one per-connection closure: a `ws` write callback says which socket only by closure. */
  readonly #onWritten: () => void

  constructor(
    readonly ws: WebSocket,
    highWaterMark: number,
  ) {
    const raw = (ws as unknown as { _socket?: Partial<Duplex> })._socket
    this.#raw =
      typeof raw?.cork === 'function' && typeof raw.uncork === 'function' ? (raw as Duplex) : undefined
    this.#highWaterMark = highWaterMark
    this.#corkLimit = Math.min(CORK_BYTES, highWaterMark)
    this.#onWritten = () => {
      if (this.#pressured && ws.bufferedAmount <= this.#highWaterMark) {
        this.#pressured = false
        this.handle.drained()
      }
    }
  }

  send(data: string | Uint8Array): number {
    const { ws } = this
    if (ws.readyState !== WebSocket.OPEN) return 0
    if (this.#raw && !this.#corked) {
      this.#corked = true
      this.#raw.cork()
      process.nextTick(uncork, this)
    }
    try {
      ws.send(data, this.#onWritten)
    } catch {
      return 0
    }
    if (this.#corked && ws.bufferedAmount > this.#corkLimit) this.uncork()
    if (ws.bufferedAmount > this.#highWaterMark) {
      this.#pressured = true
      return -1
    }
    return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength
  }

  uncork(): void {
    if (!this.#corked) return
    this.#corked = false
    this.#raw?.uncork()
  }

  close(code: number, reason: string): void {
    try {
      this.ws.close(code, reason)
    } catch {
      this.ws.terminate()
    }
  }

  ping(): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.ping()
  }

  bufferedAmount(): number {
    return this.ws.bufferedAmount
  }

  terminate(): void {
    this.ws.terminate()
  }
}

const BINDING = Symbol('synckit-engine.binding')
type BoundWebSocket = WebSocket & { [BINDING]?: WsBinding }

const REFUSED_HANDLE: ConnectionHandle = Object.freeze({
  id: '',
  receive() {},
  closed() {},
  pong() {},
  drained() {},
})

function uncork(binding: WsBinding): void {
  binding.uncork()
}

// Shared by every socket: `this` is the `ws` that emitted.
function onMessage(this: BoundWebSocket, data: RawData, isBinary: boolean): void {
  this[BINDING]?.handle.receive(isBinary ? toBytes(data) : toText(data))
}
// A pong, or a client's own protocol ping: a sign of life either way.
function onLiveness(this: BoundWebSocket): void {
  this[BINDING]?.handle.pong()
}
function onClose(this: BoundWebSocket): void {
  const binding = this[BINDING]
  if (!binding) return
  binding.tracked?.delete(this)
  binding.handle.closed()
}
function onError(): void {
  // `close` always follows; nothing else to do.
}

/** Wires one `ws` socket to the SyncServer through the `SyncSocket` contract. */
export function bindWebSocket(server: SyncServer, ws: WebSocket, req?: IncomingMessage): ConnectionHandle {
  return bind(server, ws, req, undefined)
}

function bind(
  server: SyncServer,
  ws: WebSocket,
  req: IncomingMessage | undefined,
  tracked: Set<WebSocket> | undefined,
): ConnectionHandle {
  const binding = new WsBinding(ws, server.limits.highWaterMark)
  binding.tracked = tracked
  ;(ws as BoundWebSocket)[BINDING] = binding
  ws.on('message', onMessage)
  ws.on('pong', onLiveness)
  ws.on('ping', onLiveness)
  ws.on('close', onClose)
  ws.on('error', onError)
  binding.handle = server.handleConnection(binding, upgradeRequest(req))
  return binding.handle
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
