import type { IncomingMessage } from 'node:http'
import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import { type RawData, WebSocket, type WebSocketServer, type ServerOptions as WsServerOptions } from 'ws'
import type {
  ConnectionHandle,
  ConnectionOptions,
  SyncSocket,
  UpgradeAdmission,
  UpgradeRefusal,
  UpgradeRequest,
} from '../src/server/transport.js'
import { DEFAULT_HIGH_WATER_MARK, type SyncServerTransport } from './transport.js'

/** The `ws` plumbing shared by `synckit-engine/ws` and `synckit-engine/node` (not an entry point). */

const SHUTDOWN_WAIT_MS = 2_000

/** `ws` settings for a SyncServer: no compression (binary frames barely compress; CPU and memory do
 * not come free), and oversized frames refused by the transport before they are buffered. */
export function webSocketServerOptions(sync: SyncServerTransport): WsServerOptions {
  const maxPayload = sync.limits?.maxPayloadBytes
  return { noServer: true, perMessageDeflate: false, ...(maxPayload ? { maxPayload } : {}) }
}

/**
 * Serves the `wss` `connection` events (with the admission `acceptUpgrade` passes along, if any);
 * `close()` detaches and closes the sockets it served.
 */
export function serveConnections(
  sync: SyncServerTransport,
  wss: WebSocketServer,
): { close(): Promise<void> } {
  const sockets = new Set<WebSocket>()
  const onConnection = (ws: WebSocket, req?: IncomingMessage, admission?: UpgradeAdmission): void => {
    sockets.add(ws)
    bind(sync, ws, req, admission, sockets)
  }
  wss.on('connection', onConnection)
  return {
    close: async () => {
      wss.off('connection', onConnection)
      await closeSockets(sockets)
    },
  }
}

/**
 * Takes an `upgrade` event for `path`: `sync.upgrade` decides first, and only an admitted request
 * is handed to `wss` (its `connection` event carries the admission). A refused one is answered
 * with its HTTP status and JSON body, and no WebSocket is opened. Returns false, leaving the
 * socket alone, for any other path.
 */
export function acceptUpgrade(
  sync: SyncServerTransport,
  wss: WebSocketServer,
  path: string,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): boolean {
  if (pathnameOf(req.url) !== path) return false
  // Until `ws` takes the socket, a client reset must not become an uncaught 'error'.
  const onError = (): void => {
    socket.destroy()
  }
  socket.on('error', onError)
  sync.upgrade(upgradeRequest(req)).then(
    (result) => {
      socket.off('error', onError)
      if (!result.ok) return writeRefusal(socket, result)
      // A client that left meanwhile: its slot is released when the admission expires.
      if (socket.destroyed) return
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req, result))
    },
    (error: unknown) => {
      sync.logger?.error({ err: error, url: req.url }, 'upgrade check failed')
      socket.destroy()
    },
  )
  return true
}

/** Answers an upgrade request with a plain status and no body (e.g. 404 for another path). */
export function rejectUpgrade(socket: Duplex, status = '404 Not Found'): void {
  socket.on('error', () => socket.destroy())
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
}

/** Answers an upgrade request with the refusal of `sync.upgrade` (status, headers, JSON body). */
export function writeRefusal(socket: Duplex, refusal: UpgradeRefusal): void {
  if (socket.destroyed) return
  const body = Buffer.from(refusal.body)
  const headers = Object.entries(refusal.headers).map(([name, value]) => `${name}: ${value}\r\n`)
  socket.on('error', () => socket.destroy())
  const head =
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? ''}\r\n${headers.join('')}` +
    `Content-Length: ${body.byteLength}\r\nConnection: close\r\n\r\n`
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]))
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
    readonly logger: SyncServerTransport['logger'],
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
function onError(this: BoundWebSocket, error: Error): void {
  // `close` always follows; a peer's reset is its own business, so only at debug level.
  const binding = this[BINDING]
  binding?.logger?.debug({ err: error, connectionId: binding.handle.id }, 'socket error')
}

/**
 * Wires one `ws` socket to the SyncServer through the `SyncSocket` contract. `options` is the
 * admission of `sync.upgrade`, or `{ principal, context }` from a host that authenticated the
 * user itself.
 */
export function bindWebSocket(
  sync: SyncServerTransport,
  ws: WebSocket,
  req?: IncomingMessage,
  options?: ConnectionOptions,
): ConnectionHandle {
  return bind(sync, ws, req, options, undefined)
}

function bind(
  sync: SyncServerTransport,
  ws: WebSocket,
  req: IncomingMessage | undefined,
  options: ConnectionOptions | undefined,
  tracked: Set<WebSocket> | undefined,
): ConnectionHandle {
  const binding = new WsBinding(ws, sync.limits?.highWaterMark ?? DEFAULT_HIGH_WATER_MARK, sync.logger)
  binding.tracked = tracked
  ;(ws as BoundWebSocket)[BINDING] = binding
  ws.on('message', onMessage)
  ws.on('pong', onLiveness)
  ws.on('ping', onLiveness)
  ws.on('close', onClose)
  ws.on('error', onError)
  binding.handle = sync.handleConnection(binding, upgradeRequest(req), options)
  return binding.handle
}

/** A node:http request as the server's `UpgradeRequest`. */
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

/** A task run at most once; later calls get the same promise. */
export function once(task: () => Promise<void>): () => Promise<void> {
  let result: Promise<void> | undefined
  return () => {
    result ??= task()
    return result
  }
}
