import type { ClientMessage, JsonObject, WireFormat } from '../protocol/types.js'
import { EngineCore } from './core.js'
import { flushTurn } from './flush.js'
import { closeConnection, openConnection, resumeConnection, tickEngine } from './lifecycle.js'
import { ownedEntries } from './presence.js'
import { processMessage, receiveFrame } from './receive.js'
import { applyResolution } from './resolve.js'
import { revoke } from './revoke.js'
import type {
  ConnectionId,
  ConnectionInfo,
  ConnectionUsage,
  DocumentUsage,
  Effect,
  EngineOptions,
  EngineStats,
  OwnedAwarenessEntry,
  Resolution,
  ResumedConnection,
  RevokeTarget,
} from './types.js'
import { connectionUsage, documentUsage, keptTextStates } from './usage.js'

/**
 * The sans-I/O sync engine: every input is a call with the current time, every output a list of
 * effects for the runtime to perform, in order. It never touches a socket, a timer or a clock.
 */
export class SyncEngine {
  readonly #core: EngineCore

  constructor(options: EngineOptions) {
    this.#core = new EngineCore(options)
  }

  get nodeId(): string {
    return this.#core.nodeId
  }

  /** A transport accepted a connection. */
  open(conn: ConnectionId, now: number, info?: ConnectionInfo): Effect[] {
    return this.#run(now, (core) => openConnection(core, conn, info))
  }

  /**
   * A connection that outlived a restart of the server comes back: authenticated as `principal`,
   * replying in its old format, subscribed again to its documents (loaded if needed) without any
   * `sync_response`: the client never left, so it holds the state already.
   */
  resume(conn: ConnectionId, now: number, resumed: ResumedConnection, ip?: string): Effect[] {
    return this.#run(now, (core) => resumeConnection(core, conn, resumed, ip))
  }

  /** A frame arrived: a text frame as a string, a binary frame as bytes. */
  receive(conn: ConnectionId, frame: string | Uint8Array, now: number): Effect[] {
    return this.#run(now, (core) => {
      const connection = core.connections.get(conn)
      if (connection && !connection.closed) receiveFrame(core, connection, frame)
    })
  }

  /**
   * An already decoded and validated message (`decodeClientFrame`), for transports that decode
   * elsewhere or not at all (in-process). Replies use the connection's format (binary by default).
   */
  receiveMessage(conn: ConnectionId, message: ClientMessage, now: number, bytes = 0): Effect[] {
    return this.#run(now, (core) => {
      const connection = core.connections.get(conn)
      if (!connection || connection.closed) return
      core.messagesIn.set(message.type, (core.messagesIn.get(message.type) ?? 0) + 1)
      core.bytesIn += bytes
      processMessage(core, connection, message, bytes)
    })
  }

  /** The transport closed the connection (either side). Idempotent. */
  close(conn: ConnectionId, now: number): Effect[] {
    return this.#run(now, (core) => closeConnection(core, conn))
  }

  /** Periodic: deadlines, presence expiry, chunk expiry, idle document eviction. */
  tick(now: number): Effect[] {
    return this.#run(now, (core) => tickEngine(core))
  }

  /** End of an I/O turn: coalesced echoes, cluster publication, one persist batch, acks. */
  flush(now: number): Effect[] {
    return this.#run(now, (core) => flushTurn(core))
  }

  /** Completion of an effect the runtime performed (auth, load, persist, remote update). */
  resolve(result: Resolution, now: number): Effect[] {
    return this.#run(now, (core) => applyResolution(core, result))
  }

  /** Live revocation of a user's connections or of access to a document (see `revoke.ts`). */
  revoke(target: RevokeTarget, now: number): Effect[] {
    return this.#run(now, (core) => revoke(core, target))
  }

  /** The encoding replies to this connection use (binary until its first frame says otherwise). */
  wireFormat(conn: ConnectionId): WireFormat {
    return this.#core.connections.get(conn)?.format ?? 'binary'
  }

  /** True while flush has work (echoes, persistence, acks) queued. */
  get hasPendingFlush(): boolean {
    return this.#core.touched.length > 0 || this.#core.acksThisTurn.length > 0
  }

  /** Counts of what the engine holds. */
  stats(): EngineStats {
    const core = this.#core
    let authenticated = 0
    let subscriptions = 0
    for (const connection of core.connections.values()) {
      if (connection.authState === 'authenticated') authenticated++
      subscriptions += connection.subscriptions.size
    }
    let awarenessClients = 0
    for (const room of core.rooms.values()) awarenessClients += room.awareness.size
    return {
      connections: core.connections.size,
      authenticatedConnections: authenticated,
      documents: core.documents.size,
      subscriptions,
      awarenessClients,
      pendingPersistBatches: core.batches.size,
    }
  }

  /** Messages received per type (`invalid` for undecodable frames) and bytes, since start. */
  inboundCounters(): { messages: Record<string, number>; bytes: number } {
    return { messages: Object.fromEntries(this.#core.messagesIn), bytes: this.#core.bytesIn }
  }

  /** Present clients of a document with their owners (for answering a cluster peer's presence query). */
  awarenessEntries(documentId: string): OwnedAwarenessEntry[] {
    const room = this.#core.rooms.get(documentId)
    return room ? ownedEntries(room) : []
  }

  /** Ids of the documents in memory. */
  documentIds(): string[] {
    return [...this.#core.documents.keys()]
  }

  /** Subscribers and live fields of a document in memory. */
  documentInfo(documentId: string): { subscribers: number; fields: number } | undefined {
    const entry = this.#core.documents.get(documentId)
    if (!entry) return undefined
    return { subscribers: entry.subscribers.size, fields: entry.doc?.liveFieldCount ?? 0 }
  }

  /** What the engine holds for a connection (buffers, chunk sets, presence, text states), by its limits. */
  connectionUsage(conn: ConnectionId): ConnectionUsage | undefined {
    return connectionUsage(this.#core, conn)
  }

  /** What the engine holds for a document and its presence room, by its limits. */
  documentUsage(documentId: string): DocumentUsage | undefined {
    return documentUsage(this.#core, documentId)
  }

  /** The kept text-state ops of a document (what a late joiner receives), least recently updated first. */
  textStates(documentId: string): JsonObject[] {
    return keptTextStates(this.#core, documentId)
  }

  /** The document's current visible state, or undefined when it is not in memory. */
  documentState(documentId: string): Record<string, unknown> | undefined {
    return this.#core.documents.get(documentId)?.doc?.state()
  }

  /** A copy of the document's registers and clock (for tests, snapshots and debugging). */
  documentSnapshot(documentId: string) {
    return this.#core.documents.get(documentId)?.doc?.snapshot()
  }

  #run(now: number, step: (core: EngineCore) => void): Effect[] {
    const core = this.#core
    core.now = now
    try {
      step(core)
    } catch (error) {
      // A bug must not take the node down or leave a half-applied turn unreported.
      core.emit({
        type: 'protocol-error',
        conn: '',
        code: 'INTERNAL',
        message: error instanceof Error ? error.message : String(error),
      })
    }
    return core.drain()
  }
}
