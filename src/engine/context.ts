import { HybridLogicalClock } from '../crdt/index.js'
import type { DecodeOptions } from '../protocol/index.js'
import type { ErrorCode, JsonObject, ServerMessage } from '../protocol/types.js'
import { InFlightBatches } from './batches.js'
import { resolveLimits } from './limits.js'
import { rbacPolicy } from './rbac.js'
import type { AwarenessRoom, Connection, DocumentEntry, PendingAck, UserBucket } from './state.js'
import type {
  AuthorizePolicy,
  ConnectionId,
  DocumentChangeEngineEvent,
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

/**
 * What every step of the engine shares: its state, and the only ways out of it. A step changes
 * the state and records effects (`send`, `sendError`, `emit`, `requestClose`, `effect`); the
 * public `SyncEngine` hands them to the runtime after every call. Nothing here has a side effect
 * beyond its name: creating a room or starting a load lives with the documents and rooms.
 */
export class EngineContext {
  readonly options: EngineOptions
  readonly limits: EngineLimits
  /** `decodeClientFrame`'s options for a client frame, made once rather than per frame. */
  readonly frameDecoding: DecodeOptions
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
  /** `document-change` events of this flush, handed to its persist batch (`document-committed`). */
  changesThisTurn: DocumentChangeEngineEvent[] = []
  /** Documents touched since the last flush (echo, persist, publish), each once (`entry.touched`). */
  touched: DocumentEntry[] = []
  nextBatchId = 1
  /** Per-user token buckets, dropped when the user's last connection closes (`rate-limits.ts`). */
  readonly userBuckets = new Map<string, UserBucket>()
  /** Messages received per type and bytes, read by the runtime for metrics (no effect per frame). */
  readonly messagesIn = new Map<string, number>()
  bytesIn = 0
  /** Shared by every anonymous connection (`anonymousPrincipal`), made on first need. */
  anonymousPrincipal: Principal | undefined
  /** The time of the current call (ms); set by `SyncEngine` before each step. */
  now = 0
  #out: Effect[] = []

  constructor(options: EngineOptions) {
    if (!options.nodeId) throw new TypeError('EngineOptions.nodeId is required')
    this.options = options
    this.limits = resolveLimits(options.limits)
    this.frameDecoding = { maxFrameBytes: this.limits.maxFrameBytes }
    this.policy = options.authorize ?? rbacPolicy
    this.validation = options.validate ? new WriteValidation(options.validate) : undefined
    this.hlc = new HybridLogicalClock(options.nodeId)
  }

  get nodeId(): string {
    return this.options.nodeId
  }

  /** The effects recorded since the last call, in order; the list starts empty again. */
  drain(): Effect[] {
    const effects = this.#out
    this.#out = []
    return effects
  }

  /** Records an effect for the runtime (loads, persists, cluster topics, authentication). */
  effect(effect: Effect): void {
    this.#out.push(effect)
  }

  emit(event: EngineEvent): void {
    this.#out.push({ kind: 'emit', event })
  }

  send(to: readonly ConnectionId[], body: OutgoingBody, reply = false): void {
    if (to.length === 0) return
    // Stamping the fresh body in place is measurably cheaper than copying it on the hot path.
    const message = body as ServerMessage
    message.id = this.options.newId()
    message.timestamp = this.now
    this.#out.push(reply ? { kind: 'send', to, message, reply } : { kind: 'send', to, message })
  }

  /** To one connection, if it is still open (a parked write of a closed one has nobody to answer). */
  sendTo(conn: ConnectionId, body: OutgoingBody): void {
    const connection = this.connections.get(conn)
    if (connection) this.send(connection.toSelf, body)
  }

  /** Part of the answer to the connection's own request for a document (see `SendEffect.reply`). */
  replyTo(connection: Connection, body: OutgoingBody): void {
    if (!connection.closed) this.send(connection.toSelf, body, true)
  }

  /** `error {error, details}`; `details.code` always set so clients and metrics can branch on it. */
  sendError(conn: ConnectionId, error: string, code: ErrorCode, extra?: JsonObject): void {
    const details: JsonObject = { code, ...extra }
    this.sendTo(conn, { type: 'error', error, details })
    const documentId = typeof extra?.documentId === 'string' ? extra.documentId : undefined
    this.emit({ type: 'protocol-error', conn, code, message: error, documentId })
  }

  /**
   * Asks the runtime to close the connection. The engine forgets it only when the runtime reports
   * the close back (`SyncEngine.close`, see `lifecycle.ts`).
   */
  requestClose(conn: ConnectionId, code: number, reason: string): void {
    this.#out.push({ kind: 'close', conn, code, reason })
  }
}
