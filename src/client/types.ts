import type { EventEmitter } from 'eventemitter3'
import type { JsonObject, JsonValue, ServerMessage, VectorClock } from '../protocol/types.js'

/** The WebSocket event shapes the client reads (browser `Event`s and `ws` events both fit). */
export interface SocketEventLike {
  /** Not read; present so DOM/`ws` events share a property with this otherwise all-optional type. */
  type?: string
  data?: unknown
  code?: number
  reason?: string
  message?: string
}

/**
 * The subset of the WHATWG WebSocket the client uses. Method syntax on purpose: it keeps both the
 * DOM `WebSocket` and `ws`'s class assignable despite their differently typed event objects.
 */
export interface WebSocketLike {
  readonly readyState: number
  binaryType: string
  /** Sends a frame. */
  send(data: string | Uint8Array): void
  /** Closes the socket. */
  close(code?: number, reason?: string): void
  /** Listens to open, message, close and error. */
  addEventListener(
    type: 'open' | 'message' | 'close' | 'error',
    listener: (event: SocketEventLike) => void,
  ): void
}

/** A WebSocket constructor (the browser's, or `ws` in Node). */
export type WebSocketConstructorLike = new (url: string) => WebSocketLike

/** Reconnect backoff. */
export interface ReconnectOptions {
  /** First retry delay (ms). Default 1000. */
  initialDelayMs?: number
  /** Upper bound of the delay before jitter (ms). Default 30000. */
  maxDelayMs?: number
  /** Growth per attempt. Default 1.5 (the SyncKit SDK's). */
  factor?: number
}

/** Which SyncKit client dialect to speak. */
export type ClientDialect = 'sdk' | 'legacy'

/** Options of `createSyncClient`. */
export interface SyncClientOptions {
  url: string
  /** `sdk`: the SyncKit SDK's frames (docs/protocol.md §10.1); `legacy`: the test client's (§10.3). Default `sdk`. */
  dialect?: ClientDialect
  /** Default `binary`, as every SyncKit client. */
  format?: 'binary' | 'json'
  token?: string
  apiKey?: string
  /** Needed where there is no global `WebSocket` (Node 20: pass `ws`'s `WebSocket`). */
  WebSocket?: WebSocketConstructorLike
  /** Own id in write ops and awareness. Default random `client-…`. */
  clientId?: string
  /** `false` disables automatic reconnection. */
  reconnect?: ReconnectOptions | false
  /** Deadline of every request once sent (connect, subscribe, write, ping). Default 10000 ms. */
  requestTimeoutMs?: number
  /** Unacknowledged writes kept for resending; further writes reject. Default 1000. */
  maxQueuedWrites?: number
  /** Own awareness state is re-sent this often so the server does not expire it. Default 15000 ms. */
  awarenessRefreshMs?: number
}

/** Read-only view of one document as the client knows it. */
export interface DocumentReplica {
  readonly documentId: string
  /** Fields with pending local writes applied on top of the last server state. */
  toJSON(): Record<string, JsonValue>
  /** A field's current value. */
  get(field: string): JsonValue | undefined
  /** Max-merge of every clock the server sent for this document. */
  readonly clock: Readonly<VectorClock>
  /** True once a `sync_response` was applied. */
  readonly synced: boolean
}

/** Someone present on a document: their last published state. */
export interface PresenceEntry {
  readonly clientId: string
  readonly state: JsonObject
  /** This client's own entry. */
  readonly self: boolean
}

/**
 * What `subscribe(documentId, onChange)` delivers: a frozen snapshot of one document, replaced
 * (never changed in place) whenever something in it changes.
 */
export interface DocumentView {
  readonly documentId: string
  /** The visible fields: the server's state with this client's unacknowledged writes on top. */
  readonly fields: Readonly<Record<string, JsonValue>>
  /** Who is present, own entry first (once published), then by client id. Empty of others while offline. */
  readonly presence: readonly PresenceEntry[]
  /** The first `sync_response` was applied. */
  readonly synced: boolean
  /** Writes to this document not yet acknowledged: in flight, or queued while offline. */
  readonly pendingWrites: number
  readonly connected: boolean
}

/** The handle `subscribe(documentId, onChange)` returns. */
export interface DocumentSubscription {
  readonly documentId: string
  /** The latest view; the same object until something changes. */
  readonly current: DocumentView
  /** Settles like `subscribe(documentId)`: on the first sync, or with the refusal. */
  readonly ready: Promise<DocumentReplica>
  /** Publish own presence on this document (`null` announces leaving). */
  setPresence(state: JsonObject | null): void
  /** No more `onChange` calls. The client stays subscribed to the document itself. */
  unsubscribe(): void
}

/** This client's presence in a document. */
export interface AwarenessHandle {
  /** Publish own state; `null` announces leaving. */
  set(state: JsonObject | null): void
  /** Every present client's state and clock. */
  states(): Map<string, { state: JsonObject; clock: number }>
}

/** Where a change came from. */
export type ChangeOrigin = 'local' | 'remote' | 'sync' | 'rollback'

/** `change`: fields of a replica changed. */
export interface ChangeEvent {
  documentId: string
  fields: string[]
  origin: ChangeOrigin
}

/** `delta`: a field echo arrived. */
export interface DeltaEvent {
  documentId: string
  field: string
  /** The value adopted; `undefined` when the field was deleted. */
  value: JsonValue | undefined
  deleted: boolean
  clock: VectorClock
}

/** `awareness`: a client's presence changed. */
export interface AwarenessEvent {
  documentId: string
  clientId: string
  state: JsonObject | null
  clock: number
}

/** `open`: connected (and authenticated). */
export interface OpenEvent {
  reconnected: boolean
}

/** `close`: the socket closed. */
export interface CloseEvent {
  code: number
  reason: string
  willReconnect: boolean
}

/** The client's events. */
export interface SyncClientEvents {
  /** Fields of a replica changed (local write, echo, sync, rollback). */
  change: (event: ChangeEvent) => void
  /** A field echo arrived. */
  delta: (event: DeltaEvent) => void
  /** A server `error` or a transport failure. */
  error: (error: Error) => void
  /** Connected and authenticated. */
  open: (event: OpenEvent) => void
  /** The socket closed. */
  close: (event: CloseEvent) => void
  /** Another client's presence changed. */
  awareness: (event: AwarenessEvent) => void
  /** Every decoded server message, including `delta_batch` relays (text, counter, set ops). */
  message: (message: ServerMessage) => void
}

/** eventemitter3's listener type for `E` (what `on` accepts). */
export type Listener<E extends keyof SyncClientEvents> = EventEmitter.EventListener<SyncClientEvents, E>

/** The client handle: documents, writes, presence, events. */
export interface SyncClient {
  /** Connects (and authenticates); resolves once the server accepted the connection. */
  connect(): Promise<void>
  /** Follows a document; resolves with its replica once synced. */
  subscribe(documentId: string): Promise<DocumentReplica>
  /**
   * Subscribe to the document and its presence, and watch it: `onChange` gets the current view
   * (in a microtask), then a new one after every change, coalesced per turn. Works offline too:
   * the subscription is sent once connected.
   */
  subscribe(documentId: string, onChange: (view: DocumentView) => void): DocumentSubscription
  /** Writes one field; resolves on the durable ack. */
  set(documentId: string, field: string, value: JsonValue): Promise<void>
  /** Deletes one field; resolves on the durable ack. */
  delete(documentId: string, field: string): Promise<void>
  /** Writes several fields in one message; resolves on its ack. */
  setMany(documentId: string, fields: Record<string, JsonValue>): Promise<void>
  /** The replica's current fields, or undefined when not subscribed. */
  get(documentId: string): Record<string, JsonValue> | undefined
  /** This client's presence in a document. */
  awareness(documentId: string): AwarenessHandle
  /** Round trip to the server (ms). */
  ping(): Promise<number>
  /** Close the socket; state and unacknowledged writes are kept for a later `connect()`. */
  disconnect(): void
  /** Terminal: closes and rejects everything pending. */
  close(): void
  /** Adds a listener. */
  on<E extends keyof SyncClientEvents>(event: E, listener: Listener<E>): this
  /** Adds a listener called once. */
  once<E extends keyof SyncClientEvents>(event: E, listener: Listener<E>): this
  /** Removes a listener. */
  off<E extends keyof SyncClientEvents>(event: E, listener?: Listener<E>): this
  readonly clientId: string
  readonly connected: boolean
}

/** A server `error` frame surfaced as an Error (also the rejection reason of the request it names). */
export class SyncServerError extends Error {
  override readonly name = 'SyncServerError'
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly details: JsonObject | undefined,
  ) {
    super(message)
  }
}
