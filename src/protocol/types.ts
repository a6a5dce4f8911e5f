/**
 * Wire-level types of the SyncKit protocol (docs/protocol.md §2, §3). Everything a decoder produces is
 * one of the `ClientMessage` variants, validated; everything the engine sends is a `ServerMessage`.
 */

export type JsonPrimitive = null | boolean | number | string
/** Any JSON value. */
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject
/** A JSON object. */
export interface JsonObject {
  [key: string]: JsonValue
}

/** string -> non-negative integer counter. */
export type VectorClock = Record<string, number>

/** How a connection's frames are encoded: 13-byte-header binary frames or JSON text frames. */
export type WireFormat = 'binary' | 'json'

/** Type codes of docs/protocol.md §3.1 (identical in the TS server, the C# server and the SDK). */
export const MESSAGE_TYPE_CODES = {
  auth: 0x01,
  auth_success: 0x02,
  auth_error: 0x03,
  subscribe: 0x10,
  unsubscribe: 0x11,
  sync_request: 0x12,
  sync_response: 0x13,
  sync_step1: 0x14,
  sync_step2: 0x15,
  delta: 0x20,
  ack: 0x21,
  delta_batch_chunk: 0x23,
  ping: 0x30,
  pong: 0x31,
  awareness_update: 0x40,
  awareness_subscribe: 0x41,
  awareness_state: 0x42,
  delta_batch: 0x50,
  error: 0xff,
} as const

/** Message types that have a binary type code. */
export type CodedMessageType = keyof typeof MESSAGE_TYPE_CODES

/** Error codes carried in `error.details.code`. The first ones are SyncKit's (docs/protocol.md §9.2). */
export type ErrorCode =
  | 'INVALID_MESSAGE'
  | 'RATE_LIMIT_EXCEEDED'
  | 'AUTH_REQUIRED'
  | 'AUTH_FAILED'
  | 'TOKEN_EXPIRED'
  | 'AUTH_TIMEOUT'
  | 'NOT_AUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'INVALID_DOCUMENT_ID'
  | 'MESSAGE_TOO_LARGE'
  | 'UNSUPPORTED'
  | 'LOAD_FAILED'
  | 'PERSIST_FAILED'
  | 'LIMIT_EXCEEDED'
  | 'ACCESS_REVOKED'
  | 'VALIDATION_FAILED'
  | 'DOCUMENT_DELETED'
  | 'INTERNAL'

/** Fields every decoded client message carries. `id` is absent when the client sent none (SDK). */
export interface MessageEnvelope {
  id?: string
  /** Header timestamp (binary) or payload/top-level `timestamp` (ms); 0 when absent. */
  timestamp: number
}

export interface AuthMessage extends MessageEnvelope {
  type: 'auth'
  token?: string
  apiKey?: string
}
export interface ConnectMessage extends MessageEnvelope {
  type: 'connect'
}
export interface SubscribeMessage extends MessageEnvelope {
  type: 'subscribe'
  documentId: string
}
export interface UnsubscribeMessage extends MessageEnvelope {
  type: 'unsubscribe'
  documentId: string
}
export interface SyncRequestMessage extends MessageEnvelope {
  type: 'sync_request'
  documentId: string
  vectorClock?: VectorClock
}
export interface SyncStep1Message extends MessageEnvelope {
  type: 'sync_step1'
  documentId: string
  stateVector: VectorClock
}

/** One field write. `deleted` is true for the tombstone marker `{"__deleted": true}`. */
export interface FieldWrite {
  field: string
  value: JsonValue
  deleted: boolean
}

/**
 * `delta` in either shape (`delta: {field: value}` map, or `field`/`value`), normalised into
 * `writes` in payload order. `clock` is `vectorClock ?? clock` when present and valid.
 */
export interface DeltaMessage extends MessageEnvelope {
  type: 'delta'
  documentId: string
  writes: FieldWrite[]
  clock?: VectorClock
  messageId?: string
}

/** A field op inside `delta_batch` (`{type:'set', field, value, clock, clientId, timestamp}`). */
export interface FieldOp extends FieldWrite {
  kind: 'field'
  clock?: VectorClock
  clientId?: string
}
/** A `text-state` op: a Fugue CRDT state the server keeps per (document, clientId) and relays. */
export interface TextStateOp {
  kind: 'text-state'
  /** The batch's document id: an op cannot name another document (`raw.documentId` is ignored). */
  documentId: string
  clientId?: string
  state: string
  /** The op as received; relayed with `documentId` and `clientId` set by the server. */
  raw: JsonObject
}
/** Any other op (counter, OR-Set, richtext, legacy text): relayed to other subscribers, not applied. */
export interface RelayOp {
  kind: 'relay'
  raw: JsonObject
}
/** One op of a `delta_batch`. */
export type BatchOp = FieldOp | TextStateOp | RelayOp

export interface DeltaBatchMessage extends MessageEnvelope {
  type: 'delta_batch'
  documentId: string
  ops: BatchOp[]
  messageId?: string
}
export interface DeltaBatchChunkMessage extends MessageEnvelope {
  type: 'delta_batch_chunk'
  chunkId: string
  totalChunks: number
  chunkIndex: number
  /** base64 */
  data: string
}
export interface AckMessage extends MessageEnvelope {
  type: 'ack'
  messageId?: string
}
export interface PingMessage extends MessageEnvelope {
  type: 'ping'
}
export interface PongMessage extends MessageEnvelope {
  type: 'pong'
}
export interface AwarenessSubscribeMessage extends MessageEnvelope {
  type: 'awareness_subscribe'
  documentId: string
}
export interface AwarenessUpdateMessage extends MessageEnvelope {
  type: 'awareness_update'
  documentId: string
  clientId: string
  /** `null` means the client left. */
  state: JsonObject | null
  clock: number
}
/** `snapshot_request` / `snapshot_upload`: pass validation in SyncKit, never implemented. */
export interface UnsupportedMessage extends MessageEnvelope {
  type: 'snapshot_request' | 'snapshot_upload'
  documentId?: string
}

/** Every message a client may send, decoded and validated. */
export type ClientMessage =
  | AuthMessage
  | ConnectMessage
  | SubscribeMessage
  | UnsubscribeMessage
  | SyncRequestMessage
  | SyncStep1Message
  | DeltaMessage
  | DeltaBatchMessage
  | DeltaBatchChunkMessage
  | AckMessage
  | PingMessage
  | PongMessage
  | AwarenessSubscribeMessage
  | AwarenessUpdateMessage
  | UnsupportedMessage

/** The `type` of a client message. */
export type ClientMessageType = ClientMessage['type']

// ---------------------------------------------------------------- server -> client

/** What a principal may read and write (RBAC patterns), and whether it is an admin. */
export interface Permissions {
  canRead: string[]
  canWrite: string[]
  isAdmin: boolean
}

/** Every outgoing message carries an `id` and a `timestamp` (ms), both supplied by the engine. */
export interface OutgoingEnvelope {
  id: string
  timestamp: number
}

export interface AuthSuccessOut extends OutgoingEnvelope {
  type: 'auth_success'
  userId: string
  permissions?: Permissions
}
export interface AuthErrorOut extends OutgoingEnvelope {
  type: 'auth_error'
  error: string
  details?: JsonObject
}
export interface SyncResponseOut extends OutgoingEnvelope {
  type: 'sync_response'
  requestId: string
  documentId: string
  state: JsonObject
  clock: VectorClock
  deltas: JsonObject[]
  textState?: string
  textClock?: number
}
export interface SyncStep2Out extends OutgoingEnvelope {
  type: 'sync_step2'
  documentId: string
  operations: JsonObject[]
}
/** The per-field echo every SyncKit client adopts (`clientId: 'server'`, non-empty `clock`). */
export interface DeltaOut extends OutgoingEnvelope {
  type: 'delta'
  documentId: string
  field: string
  value: JsonValue
  clock: VectorClock
  clientId: 'server'
}
export interface DeltaBatchOut extends OutgoingEnvelope {
  type: 'delta_batch'
  documentId: string
  deltas: JsonObject[]
  isTextOperation?: boolean
}
export interface AckOut extends OutgoingEnvelope {
  type: 'ack'
  messageId: string
}
export interface PingOut extends OutgoingEnvelope {
  type: 'ping'
}
export interface PongOut extends OutgoingEnvelope {
  type: 'pong'
}
/** One client's presence in a document. */
export interface AwarenessEntry {
  clientId: string
  state: JsonObject | null
  clock: number
}
export interface AwarenessStateOut extends OutgoingEnvelope {
  type: 'awareness_state'
  documentId: string
  states: AwarenessEntry[]
}
export interface AwarenessUpdateOut extends OutgoingEnvelope {
  type: 'awareness_update'
  documentId: string
  clientId: string
  state: JsonObject | null
  clock: number
}
export interface ErrorOut extends OutgoingEnvelope {
  type: 'error'
  error: string
  details?: JsonObject
}

/** Every message the server sends. */
export type ServerMessage =
  | AuthSuccessOut
  | AuthErrorOut
  | SyncResponseOut
  | SyncStep2Out
  | DeltaOut
  | DeltaBatchOut
  | AckOut
  | PingOut
  | PongOut
  | AwarenessStateOut
  | AwarenessUpdateOut
  | ErrorOut

/** The `type` of a server message. */
export type ServerMessageType = ServerMessage['type']

/** A decode/validation failure, answered with `error {error: message, details}`. */
export interface ProtocolError {
  /** SyncKit's exact text where it had one (docs/protocol.md §9.2). */
  message: string
  code: ErrorCode
  /** Set when the frame was readable enough to name its document. */
  documentId?: string
  /** Set when the frame was readable enough to name its type. */
  type?: string
}

/** A decoded client frame, or why it could not be decoded. */
export type DecodeResult =
  | { ok: true; message: ClientMessage; format: WireFormat; bytes: number }
  | { ok: false; error: ProtocolError; format: WireFormat; bytes: number }

// ---------------------------------------------------------------- codec results (protocol layer)

/** A frame split into type, fields and timestamp, before any per-type validation. */
export type ParsedFrame =
  | {
      ok: true
      type: string
      /**
       * The payload's keys (so `id` is included), own data properties only. A `type` or
       * `timestamp` key in it means nothing: read the `type` and `timestamp` of this result.
       */
      fields: Record<string, unknown>
      timestamp: number
      format: WireFormat
      bytes: number
    }
  | { ok: false; error: ProtocolError; format: WireFormat; bytes: number }

/** A validated client message, or the protocol error. */
export type ValidationResult = { ok: true; message: ClientMessage } | { ok: false; error: ProtocolError }

/** A decoded server frame (for clients and tests), or why not. */
export type ServerDecodeResult =
  | { ok: true; message: ServerMessage; format: WireFormat }
  | { ok: false; error: ProtocolError }

/** Bounds of the `delta_batch_chunk` reassembler (docs/protocol.md §2.5; SyncKit's servers had none). */
export interface ChunkLimits {
  maxChunksPerSet: number
  /** Decoded bytes of one set. */
  maxSetBytes: number
  /** Sets pending at once. */
  maxSets: number
  /** A set is dropped this long after its first chunk (ms). */
  timeoutMs: number
}

/** What adding one chunk to a set gave. */
export type ChunkAddResult =
  | { status: 'pending' }
  | { status: 'complete'; frame: Uint8Array | string }
  | { status: 'error'; error: ProtocolError }
