import type { AwarenessDocument, LwwDocument } from '../crdt/index.js'
import type { DocumentSnapshot, Register } from '../crdt/types.js'
import type { ChunkAssembler } from '../protocol/index.js'
import type {
  ClientMessage,
  DeltaBatchMessage,
  DeltaMessage,
  JsonObject,
  SubscribeMessage,
  SyncRequestMessage,
  SyncStep1Message,
  WireFormat,
} from '../protocol/types.js'
import type { AuthState } from './auth-state.js'
import type { TokenBucket } from './buckets.js'
import type { DocumentIds } from './document-ids.js'
import type { SubscriberSet } from './subscribers.js'
import type {
  ClientDialect,
  ConnectionId,
  DocumentChangeEngineEvent,
  Principal,
  ServerRequest,
} from './types.js'

/**
 * The messages `dispatch` routes: those an authenticated connection sends for a document. The
 * pipeline before it (`receive.ts`) answers `ping` and `auth`, reassembles chunks, and drops
 * `ack`, `pong` and `connect`, so none of those reaches a handler through `dispatch`.
 */
export type DispatchedMessage = Exclude<
  ClientMessage,
  { type: 'auth' | 'connect' | 'ping' | 'pong' | 'ack' | 'delta_batch_chunk' }
>

/** A decoded message waiting for authentication, with its size for the pre-auth byte cap. */
export interface BufferedMessage {
  message: DispatchedMessage
  bytes: number
}

export interface Connection {
  readonly id: ConnectionId
  /** `[id]`, frozen: the `to` of every reply, allocated once per connection. */
  readonly toSelf: readonly ConnectionId[]
  readonly ip: string | undefined
  /** Decided by the first frame; replies go out in this encoding. */
  format: WireFormat | undefined
  /** Told by its first subscription: `subscribe` (SyncKit SDK) or `sync_request` (legacy). */
  dialect: ClientDialect | undefined
  /** Where authentication stands; changed only by `auth-state.ts`. */
  auth: AuthState
  /** Set once authenticated (`authentication.ts`); kept while the token is expired. */
  principal: Principal | undefined
  /** The principal was given at open by the door or the host (an `auth` without credentials keeps it). */
  readonly admitted: boolean
  /** App data from the door or the host, opaque to the engine (policy, validation, events). */
  readonly context: unknown
  /** Messages received before authentication completed, replayed in order afterwards. */
  preAuth: BufferedMessage[]
  preAuthBytes: number
  /** Documents the buffered messages name (capped like subscriptions); created on first need. */
  preAuthDocuments: Set<string> | undefined
  /** Documents subscribed (see `DocumentIds`: a node holds tens of thousands of these). */
  readonly subscriptions: DocumentIds
  /** Presence rooms watched (one per subscribed document, or an `awareness_subscribe`). */
  readonly awarenessRooms: DocumentIds
  /**
   * Awareness client ids this connection announced, per document: they leave when it closes.
   * Created on first announcement: most connections announce none, and an empty Map is ~180 bytes.
   */
  awarenessClients: Map<string, Set<string>> | undefined
  chunks: ChunkAssembler | undefined
  /** Token bucket for the message rate limit (`maxMessagesPerMinute`). */
  readonly messages: TokenBucket
  /** Pings answered (`maxPingsPerMinute`), apart from the message budget. */
  readonly pings: TokenBucket
  /** Invalid frames still tolerated (`maxInvalidFrames`); empty means the next one closes. */
  readonly invalidFrames: TokenBucket
  closed: boolean
}

/** The messages that need their document in memory: they wait for it while it loads. */
export type ParkableMessage =
  | SubscribeMessage
  | SyncRequestMessage
  | SyncStep1Message
  | DeltaMessage
  | DeltaBatchMessage

/** A request that needs the document and arrived while it was loading. */
export type ParkedItem =
  | { kind: 'message'; connection: Connection; message: ParkableMessage; bytes: number }
  | { kind: 'remote'; registers: Register[] }
  | { kind: 'server'; request: ServerRequest }

/** A delete of the server-side API under way: the store is asked once no batch of it is in flight. */
export interface Deletion {
  readonly request: Extract<ServerRequest, { op: 'delete' }>
  /** The document had registers in memory (perhaps not stored yet): it existed. */
  readonly hadRegisters: boolean
  /** The `delete` effect was recorded. */
  requested: boolean
}

export interface DocumentEntry {
  readonly id: string
  /** `deleting`: the server-side API deletes it; requests wait as while loading. */
  status: 'loading' | 'ready' | 'deleting'
  doc: LwwDocument | undefined
  /** Set while `deleting`. */
  deletion: Deletion | undefined
  /** Changes of a failed persist batch, committed with the batch that retries their registers. */
  uncommitted: DocumentChangeEngineEvent[] | undefined
  readonly parked: ParkedItem[]
  readonly subscribers: SubscriberSet
  /**
   * Fields to echo at the next flush. This and the two maps below are replaced, not cleared, at
   * each flush: `clear()` costs several times a fresh collection on V8.
   */
  pendingEcho: Set<string>
  /** Registers applied locally and not yet handed to a `persist` effect. */
  dirty: Map<string, Register>
  /**
   * Registers applied locally since the last flush, for the `document-change` event. Undefined
   * while they are exactly `dirty` (nearly always: one map set per write instead of two); made
   * from `dirty` once a failed batch puts back registers that were announced already.
   */
  changesToAnnounce: Map<string, Register> | undefined
  /** The one writer of `changesToAnnounce` this turn (see `changes.ts`)... */
  writer: Connection | string | undefined
  /** ...or each field's writer, once a turn has several (a string: the server, see `Writer`). */
  writers: Map<string, Connection | string> | undefined
  /** Queued in `EngineContext.touched` for the next flush. */
  touched: boolean
  /**
   * `doc.clockVersion` of the clock last handed to a `persist` (or loaded). Echoes carry the
   * clock, so a clock that moved without a register to persist (a losing write, a remote
   * register) is persisted too: a reload must never answer with a lower clock than an echo had.
   */
  persistedClockVersion: number
  /** Latest `text-state` op per client id (insertion order = age, for the cap). */
  readonly textStates: Map<string, KeptTextState>
  /** Persist batches in flight that hold registers of this document. */
  inFlight: number
  lastActive: number
  /** Quota size: the winning registers (see `registerBytes`) plus the kept text states' JSON. */
  bytes: number
  /** Each field's share of `bytes`, so a write is measured once and the old value never again. */
  readonly fieldBytes: Map<string, number>
}

/** A kept `text-state` op, as relayed and sent to late joiners, and who may replace it. */
export interface KeptTextState {
  readonly op: JsonObject
  /** JSON bytes of `op`, counted in the document's `bytes`. */
  readonly bytes: number
  /** `ownerKey` of the writer; see `ownsClientId`. */
  readonly owner: string
  /** The connection that wrote it: an anonymous owner's claim ends when it closes. */
  readonly conn: ConnectionId
}

export interface AwarenessRoom {
  readonly documentId: string
  readonly awareness: AwarenessDocument
  readonly subscribers: SubscriberSet
  /**
   * clientId -> the local connection that announced it last, so a leave can be broadcast when it
   * closes. Remote clients have no entry; who owns an id is in its awareness entry (`owner`).
   */
  readonly owners: Map<string, ConnectionId>
}

/** The bucket all connections of one user share (`rate-limits.ts`), dropped with the last of them. */
export interface UserBucket extends TokenBucket {
  connections: number
}

/** An `ack` waiting for its writes to be durable: a client's, or a server-side write's reply. */
export type PendingAck = ClientAck | ServerAck
/** A client's `ack`. */
export interface ClientAck {
  conn: ConnectionId
  messageId: string
  documentId: string
}
/** The reply to a server-side write (`server-reply` with the request's id). */
export interface ServerAck {
  request: number
  documentId: string
}

export interface PersistBatch {
  readonly id: number
  readonly acks: readonly PendingAck[]
  /** The same array the `persist` effect carries. */
  readonly documents: readonly DocumentSnapshot[]
  /** The `document-change` events of its registers, announced as committed once it is durable. */
  readonly changes: readonly DocumentChangeEngineEvent[]
}
