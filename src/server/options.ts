import type { ApiKeySource } from '../auth/api-keys.js'
import type { AuthenticateHook, VerifyCredentialsHook } from '../auth/hooks.js'
import type { AuthUser, RouteSigningOptions } from '../auth/routes.js'
import type { TokenVerifierOptions } from '../auth/verifier.js'
import type { Broker } from '../cluster/broker.js'
import type { AuthorizePolicy, EngineLimits, TestOnlyOptions, ValidationRules } from '../engine/types.js'
import type { JsonValue, Permissions } from '../protocol/types.js'
import type { DocumentStore } from '../storage/store.js'
import type { Logger } from './logger.js'
import type { RestOptions } from './rest/options.js'
import type { StaticFiles } from './static-files.js'

// Contracts that live with their layer, re-exported for the modules that read them from here.
export type { AuthenticateHook, VerifyCredentialsHook } from '../auth/hooks.js'
export type { DocumentStore, ListDocumentsOptions } from '../storage/store.js'
export type { ConnectionHandle, SyncSocket, UpgradeRequest } from './transport.js'

/** What `onLoadDocument` is told. */
export interface LoadDocumentRequest<Context = unknown> {
  documentId: string
  /** The app context of the connection whose request needs the document, if any. */
  context: Context | undefined
}

/** Initial fields for a new document, or nothing (see `SyncServerOptions.onLoadDocument`). */
export type LoadDocumentHook<Context = unknown> = (
  request: LoadDocumentRequest<Context>,
) =>
  | Readonly<Record<string, JsonValue>>
  | undefined
  | Promise<Readonly<Record<string, JsonValue>> | undefined>

/** Who may connect and what they may do (docs/security.md). */
export interface AuthOptions<Context = unknown> {
  /** `false` = anonymous mode: every connection is authenticated on open (development). Default true. */
  required?: boolean
  /** Permissions of anonymous connections. Default read/write everything, not admin. */
  anonymousPermissions?: Permissions
  /**
   * The identity check at the door, run for every connection (before the WebSocket handshake
   * where the transport allows it): headers, cookies and URL in; a principal, `null` (refuse) or
   * `undefined` (let the built-in JWT / API-key check decide) out. Use it for cookie sessions,
   * together with `allowedOrigins`.
   */
  authenticate?: AuthenticateHook<Context>
  /**
   * Verifies credentials sent in an `auth` message or on the upgrade request (token, API key).
   * Default: the built-in JWT / API-key check configured by `jwt` and `apiKeys`.
   */
  verifyCredentials?: VerifyCredentialsHook
  /** Custom authorization policy; default is RBAC on the principal's permissions. */
  authorize?: AuthorizePolicy<Context>
  /**
   * Built-in JWT verification (used when `verifyCredentials` is not given): a shared secret (HS*),
   * a public key, or a JWKS URL, with optional issuer/audience checks. Also serves `/auth/*`.
   */
  jwt?: TokenVerifierOptions
  /** Built-in API keys (used when `verifyCredentials` is not given): a list or a lookup callback. */
  apiKeys?: ApiKeySource
  /** Lets `/auth/refresh` and `/auth/login` mint tokens. */
  signing?: RouteSigningOptions
  /** Enables `POST /auth/login`; the app, never the request, decides the permissions. */
  login?: (email: string, password: string) => Promise<AuthUser | null>
}

/** Send-side limits per connection (docs/adapters.md, the socket contract). */
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

/** Protocol-level liveness. */
export interface HeartbeatOptions {
  /** Protocol ping period (ms); a peer that answered none of the last two is closed. Default 30000. */
  intervalMs?: number
}

/** How saves to the store are retried. */
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

/** The HTTP routes. */
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
  /**
   * The inspector at `/inspector` (docs/operations.md): documents, their fields and stamps,
   * subscribers, presence, live charts, and operator actions. Its API answers admins only (an
   * `isAdmin` JWT or API key as `Authorization: Bearer`), or anyone in anonymous mode
   * (`auth.required: false`) while anonymous connections may write every document (the default).
   * The page comes from `staticFiles` (`loadDemoFiles()` or `loadInspectorFiles()`).
   * Default false: `/inspector` is a 404.
   */
  inspector?: boolean
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

/**
 * The options of `createSyncServer`. `Context` is the type of the app data a connection carries
 * (set by `auth.authenticate` or `handleConnection`), seen by `authorize`, `validate` and hooks.
 */
export interface SyncServerOptions<Context = unknown> {
  /** Node identity in stamps and vector clocks; unique per process in a cluster. Default random. */
  nodeId?: string
  /** Authentication and authorization. */
  auth?: AuthOptions<Context>
  /**
   * Browser origins allowed to open a WebSocket (`Origin` header): exact origins such as
   * `https://app.example.com`, `https://*.example.com` for subdomains, `*` for any, or a
   * function. Requests without an `Origin` header (non-browser clients) are not affected.
   * Refused with HTTP 403 at the upgrade (close 1008 after it). Default: every origin. Set it
   * whenever a cookie authenticates (docs/security.md, cross-site WebSocket hijacking).
   */
  allowedOrigins?: readonly string[] | ((origin: string) => boolean)
  /**
   * Write validation, per document-id pattern (`*`, an exact id, `prefix*`): a Standard Schema
   * per field (`{ fields: { title: z.string().max(200) } }`) or a function
   * `(write, ctx) => true | reason`. Runs in the engine on every write, synchronously: an async
   * schema is refused here, at startup. A refused field gets `error VALIDATION_FAILED` and the
   * authoritative value back, and the rest of its message is not applied.
   */
  validate?: ValidationRules<Context>
  /**
   * Initial content for a document the store does not have: return its fields (JSON values), or
   * nothing to start it empty. Runs in the runtime when the document is first needed; the fields
   * are written as this node's and persisted like any write, so a document is seeded once. A hook
   * that throws fails the load (`LOAD_FAILED` to the waiting clients) and is logged.
   */
  onLoadDocument?: LoadDocumentHook<Context>
  /**
   * Where the server logs: anything with pino's interface (`info(obj, msg)`, `warn`, `error`,
   * `debug`, `child`). Every store, broker, auth and transport failure is logged once, with the
   * document or connection it concerns and no secrets. Default: warnings and errors on the console.
   */
  logger?: Logger
  /** Where documents are kept. Default: in memory (`MemoryStore`). */
  store?: DocumentStore
  /** Acks released only after the store commits (default true). */
  durableAcks?: boolean
  /** Re-send fields as `delta` frames after `sync_response` to `subscribe` (SDK 0.1.1). Default true. */
  resendFieldsOnSubscribe?: boolean
  /** Compatibility behaviours switched off, for negative-control tests only. Never in production. */
  testOnly?: TestOnlyOptions
  /** Engine limits (docs/security.md lists each with its default). */
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
  /** Send-side limits per connection. */
  backpressure?: BackpressureOptions
  /** Protocol-level liveness. */
  heartbeat?: HeartbeatOptions
  /** The HTTP routes. */
  http?: HttpOptions
  /** Engine `tick` period (ms): awareness expiry, auth deadlines, chunk expiry. Default 1000. */
  tickIntervalMs?: number
  /** Store retries. */
  persist?: PersistOptions
  /** Cluster fan-out (e.g. `createRedisBroker` from `synckit-engine/redis`). Default: single node. */
  broker?: Broker
  /**
   * The REST API on `fetch` (`/v1/documents...`, `/v1/openapi.json`; docs/rest.md): `true`, or
   * its settings. Authenticated and authorized like the WebSocket (listing and deleting need an
   * admin). Default off.
   */
  rest?: boolean | RestOptions
}
