import type { ConnectionHandle } from '../src/server/options.js'
import {
  DEFAULT_WS_PATH,
  isUpgradeRequest,
  type SyncServerTransport,
  toBytes,
  upgradeRequestOf,
} from './transport.js'

/** The parts of Deno's API the adapter uses (typed here: no Deno types needed under Node). */
interface DenoWebSocket {
  binaryType: string
  readyState: number
  bufferedAmount: number
  send(data: string | Uint8Array): void
  close(code?: number, reason?: string): void
  onopen: (() => void) | null
  onmessage: ((event: { data: string | ArrayBuffer }) => void) | null
  onclose: (() => void) | null
  onerror: (() => void) | null
}
interface DenoGlobal {
  upgradeWebSocket(
    request: Request,
    options?: { idleTimeout?: number },
  ): { socket: DenoWebSocket; response: Response }
}
interface DenoServeInfo {
  remoteAddr?: { hostname?: string }
}

export interface DenoAdapterOptions {
  /** WebSocket path. Default `/ws`. */
  path?: string
  /** Above this many buffered bytes `send` reports backpressure (-1). Default 1 MiB. */
  highWaterMark?: number
  /** Seconds Deno waits for a protocol pong before closing (Deno pings by itself). Default 60. */
  idleTimeoutSec?: number
}

/**
 * A handler for `Deno.serve`: upgrades on `/ws` with `Deno.upgradeWebSocket`, every other request
 * goes to the server's HTTP routes. Deno sends protocol pings itself (`idleTimeout`).
 */
export function createDenoHandler(server: SyncServerTransport, options: DenoAdapterOptions = {}) {
  const path = options.path ?? DEFAULT_WS_PATH
  const highWaterMark = options.highWaterMark ?? 1_048_576
  return (request: Request, info?: DenoServeInfo): Response | Promise<Response> => {
    if (!isUpgradeRequest(request, path)) return server.fetch(request)
    const deno = (globalThis as unknown as { Deno?: DenoGlobal }).Deno
    if (!deno) return new Response('createDenoHandler needs the Deno runtime', { status: 500 })
    const { socket, response } = deno.upgradeWebSocket(request, { idleTimeout: options.idleTimeoutSec ?? 60 })
    socket.binaryType = 'arraybuffer'
    const upgrade = upgradeRequestOf(request, info?.remoteAddr?.hostname)
    let handle: ConnectionHandle | undefined
    socket.onopen = () => {
      handle = server.handleConnection(
        {
          send(data) {
            if (socket.readyState !== 1) return 0
            socket.send(data)
            const bytes = typeof data === 'string' ? data.length : data.byteLength
            return socket.bufferedAmount > highWaterMark ? -1 : bytes
          },
          close: (code, reason) => socket.close(code, reason),
          bufferedAmount: () => socket.bufferedAmount,
        },
        upgrade,
      )
    }
    socket.onmessage = (event) => {
      const data = event.data
      handle?.receive(typeof data === 'string' ? data : toBytes(data))
    }
    socket.onclose = () => handle?.closed()
    socket.onerror = () => handle?.closed()
    return response
  }
}
