import {
  type ConnectionHandle,
  refusalResponse,
  SLOW_CLIENT_CODE,
  SLOW_CLIENT_REASON,
  type UpgradeAdmission,
  type UpgradeRequest,
} from '../src/server/transport.js'
import {
  DEFAULT_WS_PATH,
  isUpgradeRequest,
  type SyncServerTransport,
  toBytes,
  upgradeRequestOf,
} from './transport.js'

/** The parts of Bun's `ServerWebSocket` the adapter uses (typed here: no bun-types needed). */
interface BunSocket {
  data: BunSocketData
  readonly readyState: number
  send(data: string | Uint8Array): number
  close(code?: number, reason?: string): void
  ping(): number
  getBufferedAmount?(): number
}
interface BunSocketData {
  request: UpgradeRequest
  admission: UpgradeAdmission
  handle?: ConnectionHandle
}
interface BunServer {
  upgrade(request: Request, options: { data: BunSocketData }): boolean
  requestIP?(request: Request): { address: string } | null
}

/** Options of `createBunHandler`. */
export interface BunAdapterOptions {
  /** WebSocket path. Default `/ws`. */
  path?: string
}

const OPEN = 1

/**
 * `{ fetch, websocket }` for `Bun.serve`: upgrades on `/ws` once `sync.upgrade` admits the
 * request (a refusal is answered with its HTTP status), every other request goes to the server's
 * HTTP routes. Bun's `send` already returns bytes / -1 (backpressure) / 0 (dropped), which is
 * exactly the socket contract.
 *
 *   Bun.serve({ port: 8080, ...createBunHandler(createSyncServer({ auth: { required: false } })) })
 */
export function createBunHandler(sync: SyncServerTransport, options: BunAdapterOptions = {}) {
  const path = options.path ?? DEFAULT_WS_PATH
  const maxPayloadLength = sync.limits?.maxPayloadBytes
  return {
    /** Bun's `fetch`: upgrades after `sync.upgrade` admits the request, else the HTTP routes. */
    async fetch(request: Request, bun: BunServer): Promise<Response | undefined> {
      if (!isUpgradeRequest(request, path)) return sync.fetch(request)
      const upgrade = upgradeRequestOf(request, bun.requestIP?.(request)?.address)
      const admission = await sync.upgrade(upgrade)
      if (!admission.ok) return refusalResponse(admission)
      if (bun.upgrade(request, { data: { request: upgrade, admission } })) return undefined
      return new Response('WebSocket upgrade failed', { status: 400 })
    },
    websocket: {
      perMessageDeflate: false,
      // Oversized frames are refused by Bun itself (close 1009), as with the `ws` adapter.
      ...(maxPayloadLength ? { maxPayloadLength } : {}),
      /** A socket opened: hands it to `sync.handleConnection` with its admission. */
      open(ws: BunSocket) {
        ws.data.handle = sync.handleConnection(
          {
            send(data) {
              const sent = ws.send(data)
              // 0 on an open socket: Bun dropped the frame (its `backpressureLimit`). Never drop
              // silently: close, and the client resyncs on reconnect.
              if (sent === 0 && ws.readyState === OPEN) ws.close(SLOW_CLIENT_CODE, SLOW_CLIENT_REASON)
              return sent
            },
            close: (code, reason) => ws.close(code, reason),
            ping: () => {
              ws.ping()
            },
            bufferedAmount: () => ws.getBufferedAmount?.() ?? 0,
          },
          ws.data.request,
          ws.data.admission,
        )
      },
      /** A frame arrived. */
      message(ws: BunSocket, message: string | ArrayBuffer | Uint8Array) {
        ws.data.handle?.receive(typeof message === 'string' ? message : toBytes(message))
      },
      /** The socket closed. */
      close(ws: BunSocket) {
        ws.data.handle?.closed()
      },
      /** Bun's send buffer drained. */
      drain(ws: BunSocket) {
        ws.data.handle?.drained()
      },
      /** A protocol pong arrived. */
      pong(ws: BunSocket) {
        ws.data.handle?.pong()
      },
    },
  }
}
