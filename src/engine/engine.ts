import type { ClientMessage, JsonObject, WireFormat } from '../protocol/types.js'
import { EngineContext } from './context.js'
import { flushTurn } from './flush.js'
import { documentSubscribers, evictDocument, evictionBlocker } from './inspect.js'
import { connectionClosed, openConnection, resumeConnection, tickEngine } from './lifecycle.js'
import { presentClients } from './presence.js'
import { receiveDecoded, receiveFrame } from './receive.js'
import { applyResolution } from './resolve.js'
import { revoke } from './revoke.js'
import { handleServerRequest } from './server-requests.js'
import type {
  ConnectionId,
  ConnectionInfo,
  ConnectionUsage,
  DocumentSubscriber,
  DocumentUsage,
  Effect,
  EngineOptions,
  EngineStats,
  EvictionBlocker,
  OwnedAwarenessEntry,
  Resolution,
  ResumedConnection,
  RevokeTarget,
  ServerRequest,
} from './types.js'
import { connectionUsage, documentUsage, keptTextStates } from './usage.js'

/**
 * The sans-I/O sync engine: every input is a call with the current time, every output a list of
 * effects for the runtime to perform, in order. It never touches a socket, a timer or a clock.
 * Each input method runs one step (`#run`) whose code lives in a module of its own; a new input
 * is one more such method (CONTRIBUTING.md, "An input to the engine, or a resolution").
 */
export class SyncEngine {
  readonly #ctx: EngineContext

  constructor(options: EngineOptions) {
    this.#ctx = new EngineContext(options)
  }

  get nodeId(): string {
    return this.#ctx.nodeId
  }

  /** A transport accepted a connection. */
  open(conn: ConnectionId, now: number, info?: ConnectionInfo): Effect[] {
    return this.#run(now, openConnection, conn, info)
  }

  /**
   * A connection that outlived a restart of the server comes back: authenticated as `principal`,
   * replying in its old format, subscribed again to its documents (loaded if needed) without any
   * `sync_response`: the client never left, so it holds the state already.
   */
  resume(conn: ConnectionId, now: number, resumed: ResumedConnection, ip?: string): Effect[] {
    return this.#run(now, resumeConnection, conn, resumed, ip)
  }

  /** A frame arrived: a text frame as a string, a binary frame as bytes. */
  receive(conn: ConnectionId, frame: string | Uint8Array, now: number): Effect[] {
    return this.#run(now, receiveFrame, conn, frame)
  }

  /**
   * An already decoded and validated message (`decodeClientFrame`), for transports that decode
   * elsewhere or not at all (in-process). Replies use the connection's format (binary by default).
   */
  receiveMessage(conn: ConnectionId, message: ClientMessage, now: number, bytes = 0): Effect[] {
    return this.#run(now, receiveDecoded, conn, message, bytes)
  }

  /** The transport closed the connection (either side). Idempotent. */
  close(conn: ConnectionId, now: number): Effect[] {
    return this.#run(now, connectionClosed, conn)
  }

  /** Periodic: deadlines, presence expiry, chunk expiry, idle document eviction. */
  tick(now: number): Effect[] {
    return this.#run(now, tickEngine)
  }

  /**
   * End of an I/O turn: coalesced echoes and one persist batch (acks released at once when they
   * are not durable). The batch's registers are published to the cluster, and durable acks sent,
   * only once the store committed it (`resolve` with `persisted`).
   */
  flush(now: number): Effect[] {
    return this.#run(now, flushTurn)
  }

  /** Completion of an effect the runtime performed (auth, load, persist, remote update). */
  resolve(result: Resolution, now: number): Effect[] {
    return this.#run(now, applyResolution, result)
  }

  /**
   * A request of the server-side document API (`sync.documents`): a read, a write or a delete
   * made by the server itself. Answered by one `server-reply` effect with the request's id (a
   * write's once the store committed it); see `server-requests.ts`.
   */
  serverRequest(request: ServerRequest, now: number): Effect[] {
    return this.#run(now, (ctx) => handleServerRequest(ctx, request))
  }

  /** Live revocation of a user's connections or of access to a document (see `revoke.ts`). */
  revoke(target: RevokeTarget, now: number): Effect[] {
    return this.#run(now, revoke, target)
  }

  /**
   * An operator's request to drop a document from memory (the next use loads it from the store).
   * Does nothing while `evictionBlocker` names a reason: unflushed writes are never dropped.
   */
  evict(documentId: string, now: number): Effect[] {
    return this.#run(now, (ctx) => evictDocument(ctx, documentId))
  }

  /** The encoding replies to this connection use (binary until its first frame says otherwise). */
  wireFormat(conn: ConnectionId): WireFormat {
    return this.#ctx.connections.get(conn)?.format ?? 'binary'
  }

  /** True while flush has work (echoes, persistence, acks) queued. */
  get hasPendingFlush(): boolean {
    return this.#ctx.touched.length > 0 || this.#ctx.acksThisTurn.length > 0
  }

  /** Counts of what the engine holds. */
  stats(): EngineStats {
    const ctx = this.#ctx
    let authenticated = 0
    let subscriptions = 0
    for (const connection of ctx.connections.values()) {
      // A connection whose token expired is still authenticated until its deadline passes.
      const phase = connection.auth.phase
      if (phase === 'authenticated' || phase === 'expired') authenticated++
      subscriptions += connection.subscriptions.size
    }
    let awarenessClients = 0
    for (const room of ctx.rooms.values()) awarenessClients += room.awareness.size
    return {
      connections: ctx.connections.size,
      authenticatedConnections: authenticated,
      documents: ctx.documents.size,
      subscriptions,
      awarenessClients,
      pendingPersistBatches: ctx.batches.size,
    }
  }

  /** Messages received per type (`invalid` for undecodable frames) and bytes, since start. */
  inboundCounters(): { messages: Record<string, number>; bytes: number } {
    return { messages: Object.fromEntries(this.#ctx.messagesIn), bytes: this.#ctx.bytesIn }
  }

  /** Present clients of a document with their owners (for answering a cluster peer's presence query). */
  awarenessEntries(documentId: string): OwnedAwarenessEntry[] {
    const room = this.#ctx.rooms.get(documentId)
    return room ? presentClients(room, true) : []
  }

  /** Ids of the documents in memory. */
  documentIds(): string[] {
    return [...this.#ctx.documents.keys()]
  }

  /** Subscribers and live fields of a document in memory. */
  documentInfo(documentId: string): { subscribers: number; fields: number } | undefined {
    const entry = this.#ctx.documents.get(documentId)
    if (!entry) return undefined
    return { subscribers: entry.subscribers.size, fields: entry.doc?.liveFieldCount ?? 0 }
  }

  /** What the engine holds for a connection (buffers, chunk sets, presence, text states), by its limits. */
  connectionUsage(conn: ConnectionId): ConnectionUsage | undefined {
    return connectionUsage(this.#ctx, conn)
  }

  /** What the engine holds for a document and its presence room, by its limits. */
  documentUsage(documentId: string): DocumentUsage | undefined {
    return documentUsage(this.#ctx, documentId)
  }

  /** The kept text-state ops of a document (what a late joiner receives), least recently updated first. */
  textStates(documentId: string): JsonObject[] {
    return keptTextStates(this.#ctx, documentId)
  }

  /** The connections subscribed to a document: user, encoding and dialect. */
  documentSubscribers(documentId: string): DocumentSubscriber[] {
    return documentSubscribers(this.#ctx, documentId)
  }

  /** Why `evict` would keep the document in memory now, or undefined when it would drop it. */
  evictionBlocker(documentId: string): EvictionBlocker | undefined {
    return evictionBlocker(this.#ctx, documentId)
  }

  /** The document's current visible state, or undefined when it is not in memory. */
  documentState(documentId: string): Record<string, unknown> | undefined {
    return this.#ctx.documents.get(documentId)?.doc?.state()
  }

  /** A copy of the document's registers and clock (for tests, snapshots and debugging). */
  documentSnapshot(documentId: string) {
    return this.#ctx.documents.get(documentId)?.doc?.snapshot()
  }

  /**
   * One step with its arguments, rather than a closure over them: `receive`, `flush` and
   * `resolve` run for every frame, and a closure per call is an object per call.
   */
  #run<A, B, C>(
    now: number,
    step: (ctx: EngineContext, a: A, b: B, c: C) => void,
    a?: A,
    b?: B,
    c?: C,
  ): Effect[] {
    const ctx = this.#ctx
    ctx.now = now
    try {
      step(ctx, a as A, b as B, c as C)
    } catch (error) {
      // A bug must not take the node down or leave a half-applied turn unreported.
      ctx.emit({
        type: 'protocol-error',
        conn: '',
        code: 'INTERNAL',
        message: error instanceof Error ? error.message : String(error),
      })
    }
    return ctx.drain()
  }
}
