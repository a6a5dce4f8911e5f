import type { ApiKeySource } from '../auth/api-keys.js'
import type { AuthUser, RouteSigningOptions } from '../auth/routes.js'
import type { TokenVerifierOptions } from '../auth/verifier.js'
import type { Broker } from '../cluster/broker.js'
import type { DocumentSnapshot } from '../crdt/types.js'
import type {
  AuthorizePolicy,
  Credentials,
  EngineLimits,
  Principal,
  TestOnlyOptions,
} from '../engine/types.js'
import type { Permissions } from '../protocol/types.js'
import type { StaticFiles } from './static-files.js'

/**
 * The minimal socket a transport hands to `handleConnection`. `send` never throws: it returns the
 * bytes accepted, 0 when the socket is gone (frame dropped), -1 when the frame was accepted but the
 * peer is not keeping up (backpressure, as Bun's `send`): the runtime then queues further messages
 * (coalescing field echoes) until the transport reports `drained()` or its buffer falls below the
 * high-water mark on the next tick.
 */
export interface SyncSocket {
  send(data: string | Uint8Array): number
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
  headers?: Headers | Record<string, string | string[] | undefined>
  /** Full request URL (path + query), e.g. `/ws?token=...`. */
  url?: string
}

/** Returned by `handleConnection`: the transport reports socket events through it. */
export interface ConnectionHandle {
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

/** Durable storage of documents (registers with stamps and tombstones, vector clock). */
export interface DocumentStore {
  /** `undefined` means the document does not exist yet (an empty document is created). */
  load(documentId: string): Promise<DocumentSnapshot | undefined>
  /** Idempotent upsert of registers by the LWW rule; vector clocks max-merged. */
  save(documents: readonly DocumentSnapshot[]): Promise<void>
  health?(): Promise<boolean>
  close?(): Promise<void>
  /** Document ids in ascending byte order: up to `limit` ids greater than `after`. */
  list?(options?: ListDocumentsOptions): Promise<string[]>
  /** Removes a document (registers and clock). Resolves false when it did not exist. */
  delete?(documentId: string): Promise<boolean>
}

export interface ListDocumentsOptions {
  /** Default 100. */
  limit?: number
  /** Exclusive lower bound (keyset pagination: pass the last id of the previous page). */
  after?: string
}

/** App-supplied authentication: return a principal, or null to refuse. */
export type AuthenticateHook = (
  credentials: Credentials,
  request: UpgradeRequest,
) => Promise<Principal | null>

export interface AuthOptions {
  /** `false` = anonymous mode: every connection is authenticated on open (development). Default true. */
  required?: boolean
  /** Permissions of anonymous connections. Default read/write everything, not admin. */
  anonymousPermissions?: Permissions
  /** Replaces built-in credential verification entirely. */
  authenticate?: AuthenticateHook
  /** Custom authorization policy; default is RBAC on the principal's permissions. */
  authorize?: AuthorizePolicy
  /**
   * Built-in JWT verification (used when `authenticate` is not given): a shared secret (HS*),
   * a public key, or a JWKS URL, with optional issuer/audience checks. Also serves `/auth/*`.
   */
  jwt?: TokenVerifierOptions
  /** Built-in API keys (used when `authenticate` is not given): a list or a lookup callback. */
  apiKeys?: ApiKeySource
  /** Lets `/auth/refresh` and `/auth/login` mint tokens. */
  signing?: RouteSigningOptions
  /** Enables `POST /auth/login`; the app, never the request, decides the permissions. */
  login?: (email: string, password: string) => Promise<AuthUser | null>
}

export interface BackpressureOptions {
  /** Above this many buffered bytes, field updates to the connection are coalesced. Default 1 MiB. */
  highWaterMark?: number
  /** Above this many buffered + queued bytes, the connection is closed (1013). Default 8 MiB. */
  hardLimit?: number
  /** Above this many queued messages (after coalescing), the connection is closed (1013). Default 10000. */
  maxQueuedMessages?: number
  /**
   * Budget for replies: a document's initial sync (`sync_response`, and for SDK 0.1.1 every
   * field again) counts here, not against `hardLimit`, since the client asked for all of it in
   * one turn. Above this many reply bytes queued or still in the transport buffer, the
   * connection is closed (1013). Default `2 × limits.maxDocumentBytes + hardLimit`, enough for a
   * document at the byte quota and the per-message overhead of its re-sent fields.
   */
  maxReplyBytes?: number
}

export interface HeartbeatOptions {
  /** Protocol ping period (ms); a peer that answered none of the last two is closed. Default 30000. */
  intervalMs?: number
}

export interface PersistOptions {
  /** Store attempts per batch before it is reported failed (the engine retries it later). Default 3. */
  attempts?: number
  /** Delay before the second attempt (ms), doubled for each further one. Default 100. */
  retryDelayMs?: number
  /**
   * While batches keep failing, the next one waits before its first attempt: the doubling goes on
   * across batches up to this cap (ms), and resets on the first success. Default 2000.
   */
  maxRetryDelayMs?: number
}

export interface HttpOptions {
  /** Include document ids in `GET /health` (SyncKit did, which leaks them). Default false. */
  exposeDocumentIds?: boolean
  /**
   * Bearer token for `GET /metrics` and the detailed `GET /health` (counts, uptime, document ids).
   * Without it `/metrics` is 401 and `/health` answers only `{status, timestamp, version}`, which
   * is what load balancers need. At least 16 characters of `A-Z a-z 0-9 - . _ ~ + /` (then `=`).
   * Default: unset, both routes are open.
   */
  metricsToken?: string
  /**
   * Pages served by `fetch` beside the API routes, e.g. the demo (`loadDemoFiles()` from
   * `synckit-engine/demo`). They never replace an API route, except that a browser asking for
   * `text/html` at `/` gets the page there; every other client keeps the JSON. Default none.
   */
  staticFiles?: StaticFiles
}

/**
 * How far to believe proxy headers (as Express's `trust proxy`), walking from the server outwards:
 * the TCP peer first, then `X-Forwarded-For` from right to left; the client is the first address
 * not trusted.
 * - `false` or `0`: no proxy; the TCP peer is the client.
 * - `true`: one proxy (same as `1`).
 * - a number N: N proxies; the client is the Nth `X-Forwarded-For` entry from the right.
 * - a list: the proxies whose address is in it, as addresses, CIDR ranges (`10.0.0.0/8`,
 *   `fd00::/8`) or `loopback`, `linklocal`, `uniquelocal`.
 */
export type TrustProxy = boolean | number | readonly string[]

export interface SyncServerOptions {
  /** Node identity in stamps and vector clocks; unique per process in a cluster. Default random. */
  nodeId?: string
  auth?: AuthOptions
  store?: DocumentStore
  /** Acks released only after the store commits (default true). */
  durableAcks?: boolean
  /** Re-send fields as `delta` frames after `sync_response` to `subscribe` (SDK 0.1.1). Default true. */
  resendFieldsOnSubscribe?: boolean
  /** Compatibility behaviours switched off, for negative-control tests only. Never in production. */
  testOnly?: TestOnlyOptions
  limits?: Partial<EngineLimits>
  /** `WS_MAX_CONNECTIONS`. Default 10000. */
  maxConnections?: number
  /** `SYNCKIT_MAX_CONNECTIONS_PER_IP`. Default 50. */
  maxConnectionsPerIp?: number
  /** `SYNCKIT_MAX_MESSAGES_PER_MINUTE` per connection. Default 500. */
  maxMessagesPerMinute?: number
  /**
   * Which proxies in front of the server may name the client address (`X-Forwarded-For`, or
   * `X-Real-IP` when there is no `X-Forwarded-For`), for the per-IP limit and events. Default
   * false: the headers are ignored. See `TrustProxy`.
   */
  trustProxy?: TrustProxy
  backpressure?: BackpressureOptions
  heartbeat?: HeartbeatOptions
  http?: HttpOptions
  /** Engine `tick` period (ms): awareness expiry, auth deadlines, chunk expiry. Default 1000. */
  tickIntervalMs?: number
  persist?: PersistOptions
  /** Cluster fan-out (e.g. `createRedisBroker` from `synckit-engine/redis`). Default: single node. */
  broker?: Broker
}
