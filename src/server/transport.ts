import type { HeadersLike } from '../auth/hooks.js'
import type { Principal } from '../engine/types.js'
import { SECURITY_HEADERS } from './http.js'
import type { Logger } from './logger.js'

/**
 * The transport contract: what a transport adapter (ws, node:http, Bun, Deno, or your own) gives
 * the server and gets from it. docs/adapters.md walks through it.
 *
 *   const admission = await sync.upgrade(request)          // before the WebSocket handshake
 *   if (!admission.ok) return refuse(admission)            // HTTP status + JSON body
 *   const handle = sync.handleConnection(socket, request, admission)
 *   handle.receive(frame) / handle.closed() / handle.pong() / handle.drained()
 */

/**
 * The minimal socket a transport hands to `handleConnection`. `send` never throws: it returns the
 * bytes accepted, 0 when the socket is gone (frame dropped), -1 when the frame was accepted but the
 * peer is not keeping up (backpressure, as Bun's `send`): the runtime then queues further messages
 * (coalescing field echoes) until the transport reports `drained()` or its buffer falls below the
 * high-water mark on the next tick.
 */
export interface SyncSocket {
  /** Writes one frame: bytes accepted, 0 when the socket is gone, -1 under backpressure. */
  send(data: string | Uint8Array): number
  /** Closes with a WebSocket close code and reason; may be called from inside `handleConnection`. */
  close(code: number, reason: string): void
  /** Protocol-level ping, where the transport has one (ws, Bun). */
  ping?(): void
  /** Bytes queued in the transport and not yet written, where the transport exposes it. */
  bufferedAmount?(): number
  /** Abort without a close handshake (used for dead peers), where the transport can. */
  terminate?(): void
}

/** What the transport knows about the HTTP upgrade request. */
export interface UpgradeRequest {
  /** Remote address of the TCP peer. */
  remoteAddress?: string
  /** Request headers: Web `Headers` or a Node-style record. */
  headers?: HeadersLike
  /** Full request URL (path + query), e.g. `/ws?token=...`. */
  url?: string
}

/**
 * Returned by `handleConnection`: the transport reports socket events through it. Call its methods
 * on the handle (`handle.receive(frame)`): they are not bound, so a detached `handle.receive` fails.
 */
export interface ConnectionHandle {
  /** The connection id events and logs name (empty for a connection refused at once). */
  readonly id: string
  /** A text frame arrives as a string, a binary frame as bytes. */
  receive(frame: string | Uint8Array): void
  /** The transport closed (either side). Idempotent. */
  closed(): void
  /** A protocol-level pong arrived. */
  pong(): void
  /** The transport's send buffer drained below its own limit. */
  drained(): void
}

/**
 * The third argument of `handleConnection`: who the connection is, when the host already knows.
 * An `UpgradeAdmission` from `sync.upgrade` is one (and also carries the slot it reserved).
 */
export interface ConnectionOptions<Context = unknown> {
  /** Admits the connection as this principal: no `auth` message is needed. */
  principal?: Principal
  /** App data (tenant, user record...) for `authorize`, `validate`, hooks and events. */
  context?: Context
}

/** `sync.upgrade` admitted the request: pass it to `handleConnection` once the socket is open. */
export interface UpgradeAdmission<Context = unknown> extends ConnectionOptions<Context> {
  /** Discriminates admission from refusal. */
  readonly ok: true
}

/** Why an upgrade was refused (the `code` of the JSON body). */
export type UpgradeRefusalCode =
  | 'AUTH_FAILED'
  | 'AUTH_UNAVAILABLE'
  | 'ORIGIN_NOT_ALLOWED'
  | 'TOO_MANY_CONNECTIONS'
  | 'SERVER_AT_CAPACITY'
  | 'SERVER_SHUTTING_DOWN'

/** `sync.upgrade` refused the request: answer with this HTTP response and never open the socket. */
export interface UpgradeRefusal {
  /** Discriminates refusal from admission. */
  readonly ok: false
  /** 401 (authentication), 403 (origin), 429 (per-IP cap), 503 (capacity, shutdown, auth down). */
  readonly status: 401 | 403 | 429 | 503
  /** The JSON body's content: `{ error: { code, message } }`. */
  readonly error: { readonly code: UpgradeRefusalCode; readonly message: string }
  /** Response headers: JSON content type, no-store, the security headers, `Retry-After` on 429/503. */
  readonly headers: Readonly<Record<string, string>>
  /** The JSON body, ready to write. */
  readonly body: string
}

/** What `sync.upgrade` resolves to. */
export type UpgradeResult<Context = unknown> = UpgradeAdmission<Context> | UpgradeRefusal

/** What a transport adapter needs from the server handle (a `SyncServer` is one). */
export interface SyncServerTransport {
  /** The check before the handshake; see `SyncServer.upgrade`. */
  upgrade(request: UpgradeRequest): Promise<UpgradeResult<unknown>>
  /** A transport accepted a socket; see `SyncServer.handleConnection`. */
  handleConnection(
    socket: SyncSocket,
    request?: UpgradeRequest,
    options?: ConnectionOptions<unknown>,
  ): ConnectionHandle
  /** The HTTP routes for every request that is not a WebSocket upgrade. */
  fetch(request: Request): Promise<Response>
  /** Where transport failures are logged, when the server has a logger. */
  readonly logger?: Logger
  /** The server's transport-facing limits; defaults apply without. */
  readonly limits?: {
    readonly highWaterMark: number
    /** Frames above this are refused by transports that can (close 1009). */
    readonly maxPayloadBytes: number
  }
}

const REFUSAL_MESSAGES: Record<UpgradeRefusalCode, { status: UpgradeRefusal['status']; message: string }> = {
  AUTH_FAILED: { status: 401, message: 'Authentication failed' },
  AUTH_UNAVAILABLE: { status: 503, message: 'Authentication unavailable, try again later' },
  ORIGIN_NOT_ALLOWED: { status: 403, message: 'Origin not allowed' },
  TOO_MANY_CONNECTIONS: { status: 429, message: 'Too many connections from your IP' },
  SERVER_AT_CAPACITY: { status: 503, message: 'Server at maximum capacity' },
  SERVER_SHUTTING_DOWN: { status: 503, message: 'Server shutdown' },
}

/** Seconds a refused client should wait (429 and 503). */
const RETRY_AFTER_SECONDS = '5'

/** How a connection that does not keep up is closed (by the runtime, or a transport that drops frames). */
export const SLOW_CLIENT_CODE = 1013
export const SLOW_CLIENT_REASON = 'Client too slow; reconnect to resync'

/** The refusal for `code`, with its status, headers and JSON body. */
export function upgradeRefusal(code: UpgradeRefusalCode): UpgradeRefusal {
  const { status, message } = REFUSAL_MESSAGES[code]
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
  }
  if (status === 429 || status === 503) headers['Retry-After'] = RETRY_AFTER_SECONDS
  const error = { code, message }
  return Object.freeze({ ok: false, status, error, headers, body: JSON.stringify({ error }) })
}

/** The refusal as a Web `Response`, for fetch-style transports (Bun, Deno, Workers). */
export function refusalResponse(refusal: UpgradeRefusal): Response {
  return new Response(refusal.body, { status: refusal.status, headers: refusal.headers })
}
