import { type ConnectionHandle, refusalResponse, type SyncSocket } from '../src/server/transport.js'
import {
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_WS_PATH,
  isUpgradeRequest,
  type SyncServerTransport,
  toBytes,
  upgradeRequestOf,
} from './transport.js'

/** The parts of Deno's API the adapter uses (typed here: no Deno types needed under Node). */
interface DenoWebSocket {
  binaryType: string
  readonly readyState: number
  readonly bufferedAmount: number
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
/** `Deno.ServeHandlerInfo`. */
export interface DenoServeInfo {
  readonly remoteAddr?: { readonly hostname?: string }
}

/** Options of `createDenoHandler`. */
export interface DenoAdapterOptions {
  /** WebSocket path. Default `/ws`. */
  path?: string
  /** Above this many buffered bytes `send` reports backpressure (-1). Default: the server's. */
  highWaterMark?: number
  /** Seconds Deno waits for a protocol pong before closing (Deno pings by itself). Default 60. */
  idleTimeoutSec?: number
}

const OPEN = 1
const CLOSE_WAIT_MS = 2_000
const MAX_DRAIN_POLL_MS = 100

/** A `Deno.serve` handler that also tells when the sockets it upgraded are all closed. */
export interface DenoHandler {
  (request: Request, info?: DenoServeInfo): Response | Promise<Response>
  /**
   * Resolves once every WebSocket this handler upgraded has closed, or after `timeoutMs`. Await it
   * between `sync.close()` and `server.shutdown()`: Deno's shutdown closes the sockets still open
   * itself (1001 "Server shutting down"), racing the server's own close frames.
   */
  socketsClosed(timeoutMs?: number): Promise<void>
}

/**
 * A handler for `Deno.serve`: upgrades on `/ws` with `Deno.upgradeWebSocket` once `sync.upgrade`
 * admits the request (a refusal is answered with its HTTP status), every other request goes to
 * the server's HTTP routes. Deno sends protocol pings itself (`idleTimeout`); it has no
 * drain event, so a socket above the high-water mark is polled until it drains.
 *
 *   Deno.serve({ port: 8080 }, createDenoHandler(createSyncServer({ auth: { required: false } })))
 */
export function createDenoHandler(sync: SyncServerTransport, options: DenoAdapterOptions = {}): DenoHandler {
  const path = options.path ?? DEFAULT_WS_PATH
  const highWaterMark = options.highWaterMark ?? sync.limits?.highWaterMark ?? DEFAULT_HIGH_WATER_MARK
  const idleTimeout = options.idleTimeoutSec ?? 60
  const open = new Set<DenoWebSocket>()
  let allClosed: (() => void) | undefined
  const forget = (socket: DenoWebSocket): void => {
    open.delete(socket)
    if (open.size === 0) allClosed?.()
  }
  const handler = async (request: Request, info?: DenoServeInfo): Promise<Response> => {
    if (!isUpgradeRequest(request, path)) return sync.fetch(request)
    const deno = (globalThis as unknown as { Deno?: DenoGlobal }).Deno
    if (!deno) return new Response('createDenoHandler needs the Deno runtime', { status: 500 })
    // Read before upgrading: once upgraded, the request is closed and `remoteAddr` throws.
    const upgrade = upgradeRequestOf(request, remoteHostname(info))
    const admission = await sync.upgrade(upgrade)
    if (!admission.ok) return refusalResponse(admission)
    let upgraded: { socket: DenoWebSocket; response: Response }
    try {
      upgraded = deno.upgradeWebSocket(request, { idleTimeout })
    } catch {
      return new Response('WebSocket upgrade failed', { status: 400 })
    }
    const { socket, response } = upgraded
    socket.binaryType = 'arraybuffer'
    let handle: ConnectionHandle | undefined
    // Deno has no drain event, and its buffer usually empties within milliseconds: poll (backing
    // off) while above the mark, so a burst is not held until the server's next tick.
    let drainTimer: ReturnType<typeof setTimeout> | undefined
    const watchDrain = (delayMs: number): void => {
      if (drainTimer !== undefined) return
      drainTimer = setTimeout(() => {
        drainTimer = undefined
        if (socket.readyState !== OPEN) return
        if (socket.bufferedAmount <= highWaterMark) handle?.drained()
        else watchDrain(Math.min(delayMs * 2, MAX_DRAIN_POLL_MS))
      }, delayMs)
    }
    const syncSocket: SyncSocket = {
      send(data) {
        if (socket.readyState !== OPEN) return 0
        try {
          socket.send(data)
        } catch {
          return 0
        }
        if (socket.bufferedAmount <= highWaterMark) {
          return typeof data === 'string' ? data.length : data.byteLength
        }
        watchDrain(1)
        return -1
      },
      close(code, reason) {
        try {
          socket.close(code, reason)
        } catch {
          // A code or reason Deno refuses: close plainly rather than not at all.
          try {
            socket.close()
          } catch {
            // Already closed.
          }
        }
      },
      bufferedAmount: () => socket.bufferedAmount,
    }
    // Registered once open: a refusal (limits) can then still be told with a close code.
    socket.onopen = () => {
      handle = sync.handleConnection(syncSocket, upgrade, admission)
    }
    socket.onmessage = (event) => {
      const data = event.data
      handle?.receive(typeof data === 'string' ? data : toBytes(data))
    }
    socket.onclose = () => {
      clearTimeout(drainTimer)
      forget(socket)
      handle?.closed()
    }
    socket.onerror = () => handle?.closed()
    open.add(socket)
    return response
  }
  const socketsClosed = async (timeoutMs = CLOSE_WAIT_MS): Promise<void> => {
    if (open.size === 0) return
    let timer: ReturnType<typeof setTimeout> | undefined
    await new Promise<void>((resolve) => {
      allClosed = resolve
      timer = setTimeout(resolve, timeoutMs)
    })
    clearTimeout(timer)
    allClosed = undefined
  }
  return Object.assign(handler, { socketsClosed })
}

function remoteHostname(info: DenoServeInfo | undefined): string | undefined {
  try {
    return info?.remoteAddr?.hostname
  } catch {
    return undefined
  }
}
