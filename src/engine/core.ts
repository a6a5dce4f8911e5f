import { AwarenessDocument, HybridLogicalClock } from '../crdt/index.js'
import type { Register } from '../crdt/types.js'
import type {
  ClientMessage,
  ErrorCode,
  JsonObject,
  JsonValue,
  ServerMessage,
  VectorClock,
} from '../protocol/types.js'
import { InFlightBatches } from './batches.js'
import { ANONYMOUS_PERMISSIONS, resolveLimits } from './limits.js'
import { rbacPolicy } from './rbac.js'
import type { AwarenessRoom, Connection, DocumentEntry, PendingAck } from './state.js'
import { SubscriberSet } from './subscribers.js'
import type {
  AuthorizePolicy,
  AuthorizeRequest,
  ConnectionId,
  DocumentAction,
  Effect,
  EngineEvent,
  EngineLimits,
  EngineOptions,
  Principal,
} from './types.js'
import { WriteValidation } from './validation.js'

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never
/** A server message before the engine stamps it with an id and a timestamp. */
export type OutgoingBody = DistributiveOmit<ServerMessage, 'id' | 'timestamp'>

/** The value a tombstone is echoed as (PROTOCOL.md §2.8). */
const TOMBSTONE_VALUE: JsonObject = Object.freeze({ __deleted: true }) as JsonObject

/**
 * Shared state and helpers of the engine. Handlers receive it and push effects into `out`;
 * the public `SyncEngine` drains `out` after every call. `now` is set at the start of each call.
 */
export class EngineCore {
  readonly options: EngineOptions
  readonly limits: EngineLimits
  readonly policy: AuthorizePolicy
  /** The compiled `validate` option; undefined when writes are not validated. */
  readonly validation: WriteValidation | undefined
  readonly hlc: HybridLogicalClock
  readonly connections = new Map<ConnectionId, Connection>()
  readonly documents = new Map<string, DocumentEntry>()
  readonly rooms = new Map<string, AwarenessRoom>()
  readonly batches = new InFlightBatches()
  /** Acks of this turn's writes, released at flush (with the persist batch when durable). */
  acksThisTurn: PendingAck[] = []
  /** Documents touched since the last flush (echo, persist, publish), each once (`entry.touched`). */
  readonly touched: DocumentEntry[] = []
  nextBatchId = 1
  /** Per-user token buckets, dropped when the user's last connection closes. */
  readonly userBuckets = new Map<string, { tokens: number; at: number; connections: number }>()
  /** Messages received per type and bytes, read by the runtime for metrics (no effect per frame). */
  readonly messagesIn = new Map<string, number>()
  bytesIn = 0
  out: Effect[] = []
  now = 0

  constructor(options: EngineOptions) {
    if (!options.nodeId) throw new TypeError('EngineOptions.nodeId is required')
    this.options = options
    this.limits = resolveLimits(options.limits)
    this.policy = options.authorize ?? rbacPolicy
    this.validation = options.validate ? new WriteValidation(options.validate) : undefined
    this.hlc = new HybridLogicalClock(options.nodeId)
  }

  get nodeId(): string {
    return this.options.nodeId
  }

  anonymousPrincipal(): Principal {
    const permissions = this.options.anonymousPermissions ?? ANONYMOUS_PERMISSIONS
    return {
      userId: 'anonymous',
      permissions: { ...permissions, canRead: [...permissions.canRead], canWrite: [...permissions.canWrite] },
      via: 'anonymous',
    }
  }

  drain(): Effect[] {
    const effects = this.out
    this.out = []
    return effects
  }

  emit(event: EngineEvent): void {
    this.out.push({ kind: 'emit', event })
  }

  send(to: readonly ConnectionId[], body: OutgoingBody, reply = false): void {
    if (to.length === 0) return
    // Stamping the fresh body in place is measurably cheaper than copying it on the hot path.
    const message = body as ServerMessage
    message.id = this.options.newId()
    message.timestamp = this.now
    this.out.push(reply ? { kind: 'send', to, message, reply } : { kind: 'send', to, message })
  }

  /** To one connection, if it is still open (a parked write of a closed one has nobody to answer). */
  sendTo(conn: ConnectionId, body: OutgoingBody): void {
    const connection = this.connections.get(conn)
    if (connection) this.send(connection.only, body)
  }

  /** Part of the answer to the connection's own request for a document (see `SendEffect.reply`). */
  replyTo(connection: Connection, body: OutgoingBody): void {
    if (!connection.closed) this.send(connection.only, body, true)
  }

  /** `error {error, details}`; `details.code` always set so clients and metrics can branch on it. */
  sendError(conn: ConnectionId, error: string, code: ErrorCode, extra?: JsonObject): void {
    const details: JsonObject = { code, ...extra }
    this.sendTo(conn, { type: 'error', error, details })
    const documentId = typeof extra?.documentId === 'string' ? extra.documentId : undefined
    this.emit({ type: 'protocol-error', conn, code, message: error, documentId })
  }

  closeConnection(conn: ConnectionId, code: number, reason: string): void {
    this.out.push({ kind: 'close', conn, code, reason })
  }

  authorize(
    connection: Connection,
    action: DocumentAction,
    documentId: string,
    field?: string,
    op?: string,
  ): boolean {
    const principal = connection.principal
    if (!principal) return false
    try {
      const request: AuthorizeRequest = { principal, action, documentId, field, context: connection.context }
      if (op !== undefined) request.op = op
      return this.policy(request) === true
    } catch {
      // A throwing custom policy denies: failing closed is the only safe default.
      return false
    }
  }

  /** Checks `action` on the document and answers `Permission denied` when refused. */
  checkAccess(connection: Connection, action: DocumentAction, documentId: string): boolean {
    if (this.authorize(connection, action, documentId)) return true
    this.sendError(connection.id, 'Permission denied', 'PERMISSION_DENIED', { documentId })
    return false
  }

  /**
   * The document entry when it is in memory and ready. Otherwise parks `message` (bounded) and
   * starts the load on first need, subscribing to the cluster topic before loading so that no
   * remote update can fall between the load and the subscription.
   */
  readyDocument(
    connection: Connection,
    message: ClientMessage,
    documentId: string,
    bytes = 0,
  ): DocumentEntry | undefined {
    const existing = this.documents.get(documentId)
    if (existing?.status === 'ready') {
      existing.lastActive = this.now
      return existing
    }
    const entry = existing ?? this.startLoading(documentId, connection.id)
    if (entry.parked.length >= this.limits.maxParkedPerDocument) {
      this.sendError(
        connection.id,
        'Server busy: too many requests waiting for this document',
        'LIMIT_EXCEEDED',
        {
          documentId,
        },
      )
      return undefined
    }
    entry.parked.push({ kind: 'message', connection, message, bytes })
    return undefined
  }

  startLoading(documentId: string, conn?: ConnectionId): DocumentEntry {
    const entry: DocumentEntry = {
      id: documentId,
      status: 'loading',
      doc: undefined,
      parked: [],
      subscribers: new SubscriberSet(),
      pendingEcho: new Set(),
      dirty: new Map(),
      announce: new Map(),
      writer: undefined,
      writers: undefined,
      touched: false,
      persistedClockVersion: 0,
      textStates: new Map(),
      inFlight: 0,
      bytes: 0,
      fieldBytes: new Map(),
      lastActive: this.now,
    }
    this.documents.set(documentId, entry)
    this.out.push({ kind: 'subscribe-topic', documentId })
    this.out.push(conn === undefined ? { kind: 'load', documentId } : { kind: 'load', documentId, conn })
    return entry
  }

  /** Adds a document subscription (and the awareness one, which SDK reconnects rely on). */
  subscribe(connection: Connection, entry: DocumentEntry): boolean {
    // A write parked while loading still applies after its connection closed; nobody to subscribe.
    if (connection.closed) return true
    if (!connection.subscriptions.has(entry.id)) {
      if (connection.subscriptions.size >= this.limits.maxDocumentsPerConnection) {
        this.sendError(
          connection.id,
          `Too many documents on one connection (max ${this.limits.maxDocumentsPerConnection})`,
          'LIMIT_EXCEEDED',
          { documentId: entry.id },
        )
        return false
      }
      connection.subscriptions.add(entry.id)
      entry.subscribers.add(connection.id)
      this.emit({ type: 'subscribed', conn: connection.id, documentId: entry.id })
    }
    this.joinAwareness(connection, entry.id)
    return true
  }

  room(documentId: string): AwarenessRoom {
    let room = this.rooms.get(documentId)
    if (!room) {
      room = {
        documentId,
        awareness: new AwarenessDocument({
          maxClients: this.limits.maxAwarenessClientsPerDocument,
          maxLeftBytes: this.limits.maxAwarenessLeftBytes,
        }),
        subscribers: new SubscriberSet(),
        owners: new Map(),
      }
      this.rooms.set(documentId, room)
      // Presence crosses nodes on the document's topic, even for watchers of presence only.
      if (!this.documents.has(documentId)) this.out.push({ kind: 'subscribe-topic', documentId })
    }
    return room
  }

  /** Joins a presence room; rooms count against `maxDocumentsPerConnection` like documents. */
  joinAwareness(connection: Connection, documentId: string): AwarenessRoom | undefined {
    if (!connection.awarenessRooms.has(documentId)) {
      if (connection.awarenessRooms.size >= this.limits.maxDocumentsPerConnection) {
        this.sendError(
          connection.id,
          `Too many documents on one connection (max ${this.limits.maxDocumentsPerConnection})`,
          'LIMIT_EXCEEDED',
          { documentId },
        )
        return undefined
      }
    }
    const room = this.room(documentId)
    room.subscribers.add(connection.id)
    connection.awarenessRooms.add(documentId)
    return room
  }

  /** Drops an awareness room nobody watches and nobody is present in. */
  pruneRoom(room: AwarenessRoom): void {
    if (room.subscribers.size > 0 || room.awareness.size > 0) return
    this.rooms.delete(room.documentId)
    if (!this.documents.has(room.documentId))
      this.out.push({ kind: 'unsubscribe-topic', documentId: room.documentId })
  }

  /** The document's cluster topic is no longer needed once neither it nor its presence is held. */
  releaseTopic(documentId: string): void {
    if (!this.documents.has(documentId) && !this.rooms.has(documentId)) {
      this.out.push({ kind: 'unsubscribe-topic', documentId })
    }
  }

  /** A register as the wire shows it: tombstones become `{__deleted: true}`. */
  wireValue(register: Register): JsonValue {
    return register.deleted ? TOMBSTONE_VALUE : register.value
  }

  /** Never empty (an empty clock crashes the SDK, PROTOCOL.md §3.6 D6). */
  wireClock(entry: DocumentEntry): VectorClock {
    const clock = entry.doc?.clock() ?? {}
    for (const _ in clock) return clock
    return { [this.nodeId]: 0 }
  }

  /**
   * Missed registers in the `deltas` shape of `sync_response` / `sync_step2`. Each carries the
   * document clock, as echoes do, not its own dot: SDK clients adopt a value only if max(clock)
   * reaches their own counter (D5), and a winner written elsewhere can have a lower dot than a
   * losing write of the client's. The reply holds every missed register, so the whole clock is true.
   */
  deltasSince(entry: DocumentEntry, since: VectorClock): JsonObject[] {
    if (!entry.doc) return []
    const clock = this.wireClock(entry)
    return entry.doc.missing(since).map((register) => ({
      field: register.field,
      value: this.wireValue(register),
      ...(register.deleted ? { deleted: true } : {}),
      clock,
    }))
  }

  touch(entry: DocumentEntry): void {
    if (entry.touched) return
    entry.touched = true
    this.touched.push(entry)
  }

  queueAck(connection: Connection, messageId: string | undefined, documentId: string): void {
    if (messageId === undefined || connection.closed || this.options.testOnly?.skipAcks) return
    if (this.options.durableAcks) {
      this.acksThisTurn.push({ conn: connection.id, messageId, documentId })
    } else {
      this.sendTo(connection.id, { type: 'ack', messageId })
    }
  }
}
