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
    ws.once('close', () => sockets.delete(ws))
    bindWebSocket(sync, ws, req, admission)
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
  const highWaterMark = sync.limits?.highWaterMark ?? DEFAULT_HIGH_WATER_MARK
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
      try {
        ws.send(data, onWritten)
      } catch {
        return 0
      }
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
  handle = sync.handleConnection(socket, upgradeRequest(req), options)
  const connection = handle
  ws.on('message', (data: RawData, isBinary: boolean) => {
    connection.receive(isBinary ? toBytes(data) : toText(data))
  })
  ws.on('pong', () => connection.pong())
  // A client's own protocol ping is a sign of life too.
  ws.on('ping', () => connection.pong())
  ws.on('close', () => connection.closed())
  ws.on('error', (error: Error) => {
    // `close` always follows; a peer's reset is its own business, so only at debug level.
    sync.logger?.debug({ err: error, connectionId: connection.id }, 'socket error')
  })
  return connection
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
