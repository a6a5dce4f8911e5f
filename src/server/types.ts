import type EventEmitter from 'eventemitter3'
import type { EngineStats, ResumedConnection, RevokeTarget } from '../engine/types.js'
import type { ServerDocuments } from './documents.js'
import type { SyncServerEvents } from './events.js'
import type { Logger } from './logger.js'
import type {
  ConnectionHandle,
  ConnectionOptions,
  SyncServerTransport,
  SyncSocket,
  UpgradeRequest,
  UpgradeResult,
} from './transport.js'

/** Effective transport-facing limits, for adapters (e.g. the `ws` `maxPayload`). */
export interface RuntimeLimits {
  /** Largest frame the engine accepts; larger ones get a protocol error. */
  maxFrameBytes: number
  /** What a transport should refuse outright (close 1009): twice `maxFrameBytes`. */
  maxPayloadBytes: number
  highWaterMark: number
  hardLimit: number
  maxQueuedMessages: number
  maxReplyBytes: number
  maxConnections: number
  maxConnectionsPerIp: number
  heartbeatIntervalMs: number
  tickIntervalMs: number
}

/** What `sync.stats()` reports. */
export interface ServerStats extends EngineStats {
  messagesIn: number
  messagesOut: number
  bytesIn: number
  bytesOut: number
  /** Messages waiting in backpressure queues, over all connections. */
  queuedMessages: number
  queuedBytes: number
  rejectedConnections: number
  /** Store and auth operations not yet settled. */
  inFlight: number
  startedAt: number
  uptimeSeconds: number
}

/**
 * The runtime handle returned by `createSyncServer`. `Context` is the app data connections carry
 * (see `SyncServerOptions`).
 */
export interface SyncServer<Context = unknown>
  extends EventEmitter<SyncServerEvents<Context>>,
    SyncServerTransport {
  /** This node's id in stamps and vector clocks. */
  readonly nodeId: string
  /** The effective transport-facing limits. */
  readonly limits: Readonly<RuntimeLimits>
  /** True once `close()` was called. */
  readonly closing: boolean
  /** The server's logger (the `logger` option behind redaction), for transports and hooks. */
  readonly logger: Logger
  /**
   * The check before the WebSocket handshake, for transports that can still answer with HTTP:
   * shutdown, `allowedOrigins`, the connection caps, `auth.authenticate`, and credentials on the
   * request. Refused: answer with `status`, `headers` and `body` and never open the socket.
   * Admitted: a connection slot is held for it (released if unused after `limits.authTimeoutMs`);
   * pass the admission to `handleConnection` once the socket is open.
   */
  upgrade(request: UpgradeRequest): Promise<UpgradeResult<Context>>
  /**
   * A transport accepted a socket. With the admission of `upgrade`, the connection takes the slot
   * it held. Without one, every check runs here and a refusal closes the socket (1008, 1001,
   * 1011), the `authenticate` hook included (frames wait, bounded, until it answers). A host that
   * authenticated the user itself passes `{ principal, context }`.
   */
  handleConnection(
    socket: SyncSocket,
    request?: UpgradeRequest,
    options?: ConnectionOptions<Context>,
  ): ConnectionHandle
  /** A transport accepted a socket. Limits are enforced here (close 1008 / 1001). */
  handleConnection(socket: SyncSocket, request?: UpgradeRequest): ConnectionHandle
  /**
   * For transports whose sockets outlive the server (a Durable Object woken from hibernation):
   * serves a connection an earlier instance had authenticated and subscribed, as it was, sending
   * nothing. The transport keeps `ResumedConnection` with the socket (`authenticated`,
   * `subscribed` and `unsubscribed` events say when it changes). Refused (1001) only at shutdown.
   */
  resumeConnection(socket: SyncSocket, request: UpgradeRequest, resumed: ResumedConnection): ConnectionHandle
  /**
   * The HTTP routes (`/`, `/health`, `/health/live`, `/health/ready`, `/metrics`, `/ws` → 426),
   * the pages of `http.staticFiles`, and the inspector with `http.inspector`.
   */
  fetch(request: Request): Promise<Response>
  /** Counters and gauges of the server (also at `GET /metrics`). */
  stats(): ServerStats
  /** Prometheus text of `GET /metrics`. */
  metrics(): string
  /**
   * Appends Prometheus text to `GET /metrics` and `metrics()`: `render` runs at every scrape, so
   * it reports live values. For add-ons with counters of their own, such as webhooks
   * (`registerWebhookMetrics`); their metric names must not repeat the server's.
   */
  addMetrics(render: () => string): void
  /**
   * Live revocation: `{userId}` closes that user's connections (1008, they must authenticate
   * again); `{documentId}` re-checks access and unsubscribes connections no longer allowed.
   */
  revoke(target: RevokeTarget): void
  /**
   * Documents from the server: read, write (durably, through the engine like a client's write),
   * list, delete, and who is present. Calls reject with `DocumentApiError`. See docs/documents.md.
   */
  readonly documents: ServerDocuments
  /** The visible state of a document held in memory (undefined when it is not loaded). */
  documentState(documentId: string): Record<string, unknown> | undefined
  /** Graceful and idempotent: stop accepting, flush, wait for the store, close sockets 1001. */
  close(): Promise<void>
}
