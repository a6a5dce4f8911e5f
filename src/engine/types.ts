import type { StandardSchemaV1 } from '@standard-schema/spec'
import type { DocumentSnapshot, Register } from '../crdt/types.js'
import type {
  AwarenessEntry,
  ErrorCode,
  JsonObject,
  JsonValue,
  Permissions,
  ServerMessage,
  WireFormat,
} from '../protocol/types.js'

/** Opaque connection id chosen by the runtime. */
export type ConnectionId = string

/** Who a connection acts as once authenticated. */
export interface Principal {
  userId: string
  permissions: Permissions
  /** ms epoch; the engine closes (or asks for re-auth) once `now` passes it. */
  expiresAt?: number
  /** How the principal was established, for logs and metrics. */
  via?: 'anonymous' | 'token' | 'apiKey' | 'custom'
}

/** What a policy is asked about. */
export type DocumentAction = 'read' | 'write'

/** What an `AuthorizePolicy` is asked. */
export interface AuthorizeRequest<Context = unknown> {
  principal: Principal
  action: DocumentAction
  documentId: string
  /** Set for field-level write checks (and for a relayed op that names a field). */
  field?: string
  /** The app context of the connection (`auth.authenticate`, `handleConnection`), if any. */
  context?: Context
  /**
   * Set for a `delta_batch` op that is not a field write, checked like a field: `'text-state'`
   * for a kept text state, otherwise the relayed op's own `type` (`counter`, `set`, `richtext`,
   * `text`, ...). A policy that grants writes field by field should refuse what it does not know.
   */
  op?: string
}

/** Pure policy: may `principal` do `action` on `documentId` (and `field`)? */
export type AuthorizePolicy<Context = unknown> = (request: AuthorizeRequest<Context>) => boolean

/** What `revoke` targets: a user's connections, or the subscriptions of a document. */
export interface RevokeTarget {
  userId?: string
  documentId?: string
}

/** What the runtime knows about a connection when it opens. */
export interface ConnectionInfo {
  /** Remote address (after trusted-proxy resolution), for logs and per-IP limits. */
  ip?: string
  /** A principal already established at the door (`authenticate` hook, host, upgrade credentials). */
  principal?: Principal
  /**
   * The principal came from credentials on the upgrade request: it is answered with
   * `auth_success` at open, as if the client had sent them in an `auth` message.
   */
  verifiedCredentials?: boolean
  /** App data for the policy, validation and events; opaque to the engine. */
  context?: unknown
  /**
   * Credentials the upgrade request carried (`Authorization: Bearer`, `?token=`): verified at once
   * with an `authenticate` effect, frames buffered meanwhile, as if an `auth` message had come first.
   */
  credentials?: Credentials
}

/**
 * What a transport kept of an authenticated connection when the server itself was restarted under
 * it (a Durable Object woken from hibernation keeps its WebSockets open, but not its memory).
 * `SyncEngine.resume` puts the connection back as it was, without replying anything.
 */
export interface ResumedConnection {
  principal: Principal
  /** The encoding of the connection's replies, once its first frame had decided it. */
  format?: WireFormat
  /** Documents it was subscribed to. */
  documents: readonly string[]
  /** The app context it was admitted with (the policy, validation and events see it again). */
  context?: unknown
}

/** The engine's bounds (docs/security.md lists each with its default). */
export interface EngineLimits {
  /** Largest accepted frame, measured on the raw bytes received. */
  maxFrameBytes: number
  /** Token bucket per connection: this many messages per minute, bursts up to the same number. */
  maxMessagesPerMinute: number
  /** Token bucket shared by all connections of one authenticated (non-anonymous) user. */
  maxMessagesPerMinutePerUser: number
  /**
   * Pings answered per connection and minute, on a bucket of their own so a spent message budget
   * never stops the heartbeat (SDK clients ping every 30 s). Pings beyond it get no answer.
   */
  maxPingsPerMinute: number
  /**
   * Invalid frames (undecodable, unknown type, failed validation) a connection may send per
   * minute; the next one closes it with 1008 `Too many invalid messages`. The count decays
   * continuously, so a rare bad frame from an honest client never adds up.
   */
  maxInvalidFrames: number
  /** Requests parked per connection while waiting for auth, beyond which the socket is closed. */
  maxPreAuthFrames: number
  maxPreAuthBytes: number
  /** How long a connection may stay unauthenticated (ms). */
  authTimeoutMs: number
  /** Requests parked per document while it loads. */
  maxParkedPerDocument: number
  maxDocumentsPerConnection: number
  maxFieldsPerDocument: number
  /** Bytes of one field: its name plus its value's JSON. */
  maxFieldValueBytes: number
  /** Bytes of one document: the sum over its fields (names and values' JSON). */
  maxDocumentBytes: number
  maxAwarenessStateBytes: number
  /** Awareness entries expire after this long without an update (ms). */
  awarenessTimeoutMs: number
  maxAwarenessClientsPerDocument: number
  /** Presence client ids one connection may announce in one document. */
  maxAwarenessClientsPerConnection: number
  /**
   * How far one update may move a present client's clock. Client ids belong to their owner, so
   * a huge clock can only hurt its sender; the step keeps clocks far from where float maths breaks.
   */
  maxAwarenessClockStep: number
  /**
   * Bytes of remembered leaves per presence room (each costs its client id, its owner and 16).
   * Leaves are remembered so a delayed older update cannot bring a client back; oldest go first.
   */
  maxAwarenessLeftBytes: number
  /** Kept `text-state` ops per document (one per client). */
  maxTextStatesPerDocument: number
  /**
   * JSON bytes of one kept `text-state` op. Kept ops also count against `maxDocumentBytes`, and a
   * late joiner gets them in `delta_batch` frames of at most this many bytes of ops each.
   */
  maxTextStateBytes: number
  /** Documents kept in memory with no subscriber and nothing pending; older ones are evicted. */
  maxIdleDocuments: number
  /** Chunk reassembly bounds (docs/protocol.md §2.5). */
  maxChunksPerSet: number
  maxChunkSetBytes: number
  maxChunkSetsPerConnection: number
  chunkSetTimeoutMs: number
}

/** Options of `SyncEngine`. */
export interface EngineOptions {
  /** Identity of this node in stamps, dots and vector clocks. Unique per process in a cluster. */
  nodeId: string
  /** Anonymous mode: every connection is authenticated on open with `anonymousPermissions`. */
  anonymous: boolean
  anonymousPermissions?: Permissions
  /** Policy; defaults to RBAC on the principal's permissions (`*`, exact ids, `prefix*`). */
  authorize?: AuthorizePolicy
  /** `true`: acks for writes are released once the `persist` effect is resolved. */
  durableAcks: boolean
  /** SDK 0.1.1 ignores `sync_response.state`: re-send current fields as `delta` frames on `subscribe`. */
  resendFieldsOnSubscribe: boolean
  /**
   * Switches a compatibility behaviour off so tests can prove SyncKit clients depend on it
   * (`test/compat/negative-controls.test.ts`). Never set in production.
   */
  testOnly?: TestOnlyOptions
  limits?: Partial<EngineLimits>
  /** Write validation per document-id pattern (see `validation.ts`); checked at construction. */
  validate?: ValidationRules
  /** Id generator for outgoing message ids (injected: the ctx never calls Math.random). */
  newId: () => string
}

/** Compatibility switches for negative-control tests; never in production. */
export interface TestOnlyOptions {
  /** Apply and echo writes but never send their `ack` (SDK 0.1.1 then times out). */
  skipAcks?: boolean
  /** Ignore the writer's clock when lifting the echo clock (SDK clients with history diverge). */
  flatEchoClock?: boolean
}

// ---------------------------------------------------------------- effects (engine -> runtime)

/** One message to one or more connections: the runtime encodes it once per wire format. */
export interface SendEffect {
  kind: 'send'
  to: readonly ConnectionId[]
  message: ServerMessage
  /**
   * Set on the answer to the recipient's own request for a document (`sync_response`,
   * `sync_step2`, the kept text states and the re-sent fields): the client asked for all of it
   * at once, so a runtime should not count it against the limit that protects it from a reader
   * that falls behind on broadcasts (`backpressure.maxReplyBytes` in `createSyncServer`).
   */
  reply?: true
}
/** Close a connection with a code and reason. */
export interface CloseEffect {
  kind: 'close'
  conn: ConnectionId
  code: number
  reason: string
}
/** A token and/or an API key a client presented. */
export interface Credentials {
  token?: string
  apiKey?: string
}
/** Verify credentials; answer with `resolve({kind:'authenticated' | 'authentication-failed'})`. */
export interface AuthenticateEffect {
  kind: 'authenticate'
  conn: ConnectionId
  credentials: Credentials
}
/** Load a document from the store; answer with `loaded` or `load-failed`. */
export interface LoadEffect {
  kind: 'load'
  documentId: string
  /** The connection whose request needs the document (its context reaches `onLoadDocument`). */
  conn?: ConnectionId
}
/** Store these registers (idempotent upsert); answer with `persisted` or `persist-failed`. */
export interface PersistEffect {
  kind: 'persist'
  batchId: number
  documents: readonly DocumentSnapshot[]
}
/** Publish registers this node applied to the cluster topic of the document. */
export interface PublishEffect {
  kind: 'publish'
  documentId: string
  registers: Register[]
}
/**
 * A presence entry as nodes exchange it: the wire entry plus its owner (`user:<id>` or an
 * anonymous connection's key), so no node lets another owner take over the id. Absent from
 * nodes of the previous version; such entries belong to nobody local.
 */
export interface OwnedAwarenessEntry extends AwarenessEntry {
  owner?: string
}

/** Publish a presence update to the cluster. */
export interface PublishAwarenessEffect {
  kind: 'publish-awareness'
  documentId: string
  entry: OwnedAwarenessEntry
}
/** Subscribe to, or leave, a document's cluster topic. */
export interface TopicEffect {
  kind: 'subscribe-topic' | 'unsubscribe-topic'
  documentId: string
}
/**
 * A request of the server-side document API (`sync.documents`), answered by one `server-reply`
 * effect with the same `id`. Writes and deletes name the actor events and webhooks report.
 */
export type ServerRequest =
  | { op: 'read'; id: number; documentId: string }
  | { op: 'write'; id: number; documentId: string; writes: ServerWrite[]; actor: string }
  | { op: 'delete'; id: number; documentId: string; actor: string }
/** One field of a server-side write (`value` ignored for a delete). */
export interface ServerWrite {
  field: string
  value: JsonValue
  deleted: boolean
}
/** Why the engine refused a server request (the runtime turns it into a typed error). */
export type ServerRefusalCode = 'VALIDATION_FAILED' | 'QUOTA_EXCEEDED' | 'STORE_FAILED'
/**
 * The answer to a `ServerRequest`: a read gets the document (undefined when it has no register),
 * a write the document once the store committed it, a delete whether the document existed.
 */
export interface ServerReplyEffect {
  kind: 'server-reply'
  id: number
  reply:
    | { ok: true; snapshot?: DocumentSnapshot; existed?: boolean }
    | { ok: false; code: ServerRefusalCode; message: string; details?: JsonObject }
}
/** Remove a document from the store; answer with `deleted` or `delete-failed`. */
export interface DeleteEffect {
  kind: 'delete'
  documentId: string
}
/** Tell the other nodes a document was deleted, so they drop it from memory too. */
export interface PublishDeleteEffect {
  kind: 'publish-delete'
  documentId: string
}
/** An observability event for the runtime to publish. */
export interface EmitEffect {
  kind: 'emit'
  event: EngineEvent
}

/** Everything the engine asks the runtime to do. */
export type Effect =
  | SendEffect
  | CloseEffect
  | AuthenticateEffect
  | LoadEffect
  | PersistEffect
  | PublishEffect
  | PublishAwarenessEffect
  | TopicEffect
  | EmitEffect
  | ServerReplyEffect
  | DeleteEffect
  | PublishDeleteEffect

/** Observability events: the runtime turns them into typed events, metrics and logs. */
export type EngineEvent =
  | { type: 'protocol-error'; conn: ConnectionId; code: ErrorCode; message: string; documentId?: string }
  | { type: 'authenticated'; conn: ConnectionId; principal: Principal }
  | {
      type: 'document-change'
      documentId: string
      registers: Register[]
      origin: 'local' | 'remote'
      actor: ChangeActor
      /** The writing connection's app context. */
      context?: unknown
    }
  /** The same change once the store committed the batch that holds it (local changes only). */
  | { type: 'document-committed'; change: DocumentChangeEngineEvent }
  | { type: 'document-deleted'; documentId: string; origin: 'local' | 'remote'; actor?: string }
  | { type: 'document-loaded'; documentId: string; fields: number }
  | { type: 'document-evicted'; documentId: string }
  | { type: 'subscribed'; conn: ConnectionId; documentId: string }
  | { type: 'unsubscribed'; conn: ConnectionId; documentId: string }
  | { type: 'awareness-change'; documentId: string; clientId: string; state: JsonObject | null }
  /** A validator threw or answered asynchronously: the write was refused, the app must be told. */
  | { type: 'validator-fault'; documentId: string; field: string; message: string }

/** The `document-change` engine event. */
export type DocumentChangeEngineEvent = Extract<EngineEvent, { type: 'document-change' }>

/**
 * Who made a change: a connection (as its user), this server (`name`: the actor a server-side
 * write gave), or another node of the cluster.
 */
export type ChangeActor =
  | { kind: 'connection'; conn: ConnectionId; userId: string }
  | { kind: 'server'; name?: string }
  | { kind: 'remote' }

// ---------------------------------------------------------------- resolutions (runtime -> engine)

/** The completion of an effect, fed back through `engine.resolve`. */
export type Resolution =
  | { kind: 'authenticated'; conn: ConnectionId; principal: Principal }
  | { kind: 'authentication-failed'; conn: ConnectionId; reason: string }
  /** `seed`: initial fields for a document the store did not have, written as this node's. */
  | { kind: 'loaded'; snapshot: DocumentSnapshot; seed?: Readonly<Record<string, JsonValue>> }
  | { kind: 'load-failed'; documentId: string; error: string }
  | { kind: 'persisted'; batchId: number }
  | { kind: 'persist-failed'; batchId: number; error: string }
  | { kind: 'remote-registers'; documentId: string; registers: Register[] }
  | { kind: 'remote-awareness'; documentId: string; entry: OwnedAwarenessEntry }
  /** The store removed the document (`existed`: it had it). */
  | { kind: 'deleted'; documentId: string; existed: boolean }
  | { kind: 'delete-failed'; documentId: string; error: string }
  /** Another node deleted the document: drop it from memory. */
  | { kind: 'remote-deleted'; documentId: string }

/** What the engine holds on behalf of one connection (`SyncEngine.connectionUsage`). */
export interface ConnectionUsage {
  /** Frames and bytes buffered until authentication (`maxPreAuthFrames`, `maxPreAuthBytes`). */
  preAuthFrames: number
  preAuthBytes: number
  /**
   * Chunk sets being reassembled and their decoded bytes (`maxChunkSetsPerConnection`, and
   * `maxChunkSetBytes` each).
   */
  chunkSets: number
  chunkBytes: number
  /** Documents and presence rooms it watches (`maxDocumentsPerConnection` each). */
  subscriptions: number
  awarenessRooms: number
  /** Present client ids it announced last, over all documents, and their ids' and states' bytes. */
  presenceClients: number
  presenceBytes: number
  /** Kept text states it wrote, over all documents, and their JSON bytes. */
  textStates: number
  textStateBytes: number
}

/** What the engine holds for one document and its presence room (`SyncEngine.documentUsage`). */
export interface DocumentUsage {
  /** Quota size (`maxDocumentBytes`): fields plus kept text states. */
  bytes: number
  /** Registers, tombstones included. */
  fields: number
  textStates: number
  textStateBytes: number
  presenceClients: number
  /** Remembered presence leaves (`maxAwarenessLeftBytes`). */
  rememberedLeaveBytes: number
}

/** How a connection subscribes: `subscribe` (the SyncKit SDKs) or `sync_request` (the legacy test client). */
export type ClientDialect = 'sdk' | 'legacy'

/** One connection subscribed to a document (`SyncEngine.documentSubscribers`). */
export interface DocumentSubscriber {
  connectionId: ConnectionId
  /** Undefined until it authenticated. */
  userId: string | undefined
  /** The encoding of its frames; undefined before its first frame. */
  format: WireFormat | undefined
  /** Told by its first subscription. */
  dialect: ClientDialect | undefined
}

/**
 * Why a document cannot leave memory now (`SyncEngine.evictionBlocker`): `not-loaded` (not in
 * memory, or still loading), `subscribed` (connections watch it or its presence), `unflushed`
 * (writes not yet durable in the store; they would be lost).
 */
export type EvictionBlocker = 'not-loaded' | 'subscribed' | 'unflushed'

/** Counts of what the engine holds. */
export interface EngineStats {
  connections: number
  authenticatedConnections: number
  documents: number
  subscriptions: number
  awarenessClients: number
  pendingPersistBatches: number
}

export type { WireFormat }

// ---------------------------------------------------------------- write validation (`validation.ts`)

/** One field write, as a validator sees it. */
export interface FieldWriteInfo {
  documentId: string
  field: string
  /** The value written; `undefined` for a delete. */
  value: JsonValue | undefined
  /** True for a delete (a tombstone). */
  deleted: boolean
}

/** Who writes: a connection's principal and app context, or the server itself. */
export interface ValidationContext<Context = unknown> {
  /** Undefined for a write made by the server (e.g. a server-side document API). */
  connectionId: string | undefined
  principal: Principal | undefined
  context: Context | undefined
}

/** `true` accepts the write; a string refuses it with that reason. Anything else refuses it too. */
export type WriteValidator<Context = unknown> = (
  write: FieldWriteInfo,
  context: ValidationContext<Context>,
) => true | string

/**
 * A Standard Schema (zod 4, valibot, arktype...) per field. Keys are field names, or `prefix*`
 * patterns (the longest matching prefix wins; an exact name beats any pattern). A delete is
 * validated as the value `undefined`, so an optional schema allows deleting the field.
 */
export interface FieldSchemas {
  /** The schema of each field (or field pattern). */
  fields: Readonly<Record<string, StandardSchemaV1>>
  /**
   * Writes of a value to a field no key matches: `'refuse'` (default) or `'allow'`. Deleting
   * such a field is always allowed: it can only remove data the schema does not describe.
   */
  unknownFields?: 'refuse' | 'allow'
}

/** What applies to the documents of one pattern. */
export type DocumentValidator<Context = unknown> = FieldSchemas | WriteValidator<Context>

/**
 * The `validate` option: document-id pattern (`*`, an exact id, `prefix*`, as in RBAC) to rule.
 * Every rule whose pattern matches applies; a write must pass all of them.
 */
export type ValidationRules<Context = unknown> = Readonly<Record<string, DocumentValidator<Context>>>

/** One reason a value was refused, as sent in `error.details.issues`. */
export interface ValidationIssue extends JsonObject {
  message: string
}
