import type { Principal } from '../../src/engine/types.js'
import { detectFormat } from '../../src/protocol/detect.js'
import type { WireFormat } from '../../src/protocol/types.js'
import type { Logger } from '../../src/server/logger.js'
import type { ConnectionHandle, SyncServerOptions, SyncSocket } from '../../src/server/options.js'
import { resolveServerOptions } from '../../src/server/resolve-options.js'
import { SyncServerRuntime } from '../../src/server/runtime.js'
import { refusalResponse } from '../../src/server/transport.js'
import type { SyncServer } from '../../src/server/types.js'
import { toBytes } from '../transport.js'
import { ActivityTimers } from './activity-timers.js'
import { isJsonData } from './json-data.js'
import {
  type DurableObjectState,
  type HibernatableWebSocket,
  newWebSocketPair,
  webSocketResponse,
} from './runtime-types.js'
import {
  type DocumentScope,
  decodeScope,
  encodeScope,
  SCOPE_HEADER,
  sameScope,
  scopedPolicy,
} from './scope.js'
import { DurableObjectSqlStore } from './sql-store.js'
import { workerUpgradeRequest } from './upgrade-request.js'

/**
 * Options of the server inside one Durable Object. The store is the object's own SQLite and the
 * node id is derived from the object's id; a broker has nothing to do (each document lives in
 * exactly one object), and the heartbeat is the platform's (it answers protocol pings itself).
 */
export type DurableSyncOptions<Context = unknown> = Omit<
  SyncServerOptions<Context>,
  'store' | 'broker' | 'nodeId'
>

/** What a socket's attachment holds: enough to serve the connection again after hibernation. */
interface StoredConnection {
  v: 1
  scope: string
  url?: string
  ip?: string
  principal?: Principal
  /** The app context of the admission (JSON data only: attachments are cloned, rows are JSON). */
  context?: unknown
  /** The admission's context was not JSON data: the connection cannot be resumed as it was. */
  contextNotKept?: true
  format?: WireFormat
  documents: string[]
}

/** The attachment when the state is larger than the runtime keeps with a socket (16 KiB). */
interface StoredReference {
  v: 1
  key: string
}

interface Connection {
  readonly socket: HibernatableWebSocket
  readonly state: StoredConnection
  handle: ConnectionHandle | undefined
  /** Row of `synckit_connections` holding the state, when it outgrew the attachment. */
  key: string | undefined
}

const OPEN = 1
const CONNECTIONS_SCHEMA =
  'CREATE TABLE IF NOT EXISTS synckit_connections (key TEXT PRIMARY KEY, state TEXT NOT NULL) WITHOUT ROWID'

/**
 * A SyncServer inside a Durable Object, on the WebSocket Hibernation API. Compose it into your own
 * Durable Object class (or extend `SyncDurableObject`) and hand it the object's events:
 *
 *   constructor(ctx, env) { this.sync = new DurableSyncServer(ctx, { auth: { jwt: { secret: env.JWT_SECRET } } }) }
 *   fetch(request) { return this.sync.fetch(request) }
 *   webSocketMessage(ws, message) { this.sync.webSocketMessage(ws, message) }
 *   webSocketClose(ws, code, reason) { this.sync.webSocketClose(ws, code, reason) }
 *   webSocketError(ws) { this.sync.webSocketError(ws) }
 *
 * Every upgrade passes `sync.upgrade` first (caps, `allowedOrigins`, `auth.authenticate`,
 * credentials on the request): a refusal is answered with its HTTP status and JSON body, and no
 * WebSocket is accepted. Each connection's principal, app context, wire format and subscriptions
 * travel with its socket (the attachment); when the object wakes from hibernation, the constructor
 * serves every socket again through `resumeConnection`, so clients never notice. The context must
 * be JSON data to travel: a connection admitted with any other context is served as usual, but
 * closed with 1012 when the object wakes, so the client reconnects through the upgrade check.
 * Documents live in `ctx.storage.sql`.
 */
export class DurableSyncServer<Context = unknown> {
  readonly server: SyncServer<Context>
  readonly store: DurableObjectSqlStore
  readonly #ctx: DurableObjectState
  readonly #logger: Logger
  readonly #timers: ActivityTimers
  readonly #bySocket = new WeakMap<HibernatableWebSocket, Connection>()
  readonly #byId = new Map<string, Connection>()
  /** The connection being handed to the server: its first events name an id we do not know yet. */
  #opening: Connection | undefined
  #scope: DocumentScope | undefined
  #warnedContext = false

  constructor(ctx: DurableObjectState, given: DurableSyncOptions<Context> = {}) {
    const options = given as DurableSyncOptions
    this.#ctx = ctx
    this.store = new DurableObjectSqlStore(ctx.storage)
    ctx.storage.sql.exec(CONNECTIONS_SCHEMA)
    this.#timers = new ActivityTimers(() => this.#hasWork())
    const auth = { ...options.auth, authorize: scopedPolicy(() => this.#scope, options.auth?.authorize) }
    const resolved = resolveServerOptions({
      ...options,
      auth,
      store: this.store,
      nodeId: `do-${ctx.id.toString().slice(0, 16)}`,
    })
    const runtime = new SyncServerRuntime({ ...resolved, timers: this.#timers })
    this.server = runtime as SyncServer<Context>
    this.#logger = runtime.logger
    this.#track(this.server)
    this.#resumeAll()
  }

  /**
   * Upgrades (forwarded by the Worker) become hibernatable WebSockets once `sync.upgrade` admits
   * them (a refusal is its HTTP status and JSON body); other requests go to the HTTP routes.
   */
  async fetch(request: Request): Promise<Response> {
    this.#timers.wake()
    const scope = decodeScope(request.headers.get(SCOPE_HEADER))
    if (!scope) {
      return text(400, `Missing ${SCOPE_HEADER}: route requests with createSyncWorker or forwardToSyncObject`)
    }
    if (this.#scope && !sameScope(this.#scope, scope)) {
      return text(409, 'This object serves another document scope: the Worker routes changed')
    }
    this.#scope = scope
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return this.server.fetch(request)
    const upgrade = workerUpgradeRequest(request)
    const admission = await this.server.upgrade(upgrade)
    if (!admission.ok) return refusalResponse(admission)
    const { client, server } = newWebSocketPair()
    this.#ctx.acceptWebSocket(server)
    const state: StoredConnection = { v: 1, scope: encodeScope(scope), documents: [] }
    if (upgrade.url !== undefined) state.url = withoutToken(upgrade.url)
    if (upgrade.remoteAddress !== undefined) state.ip = upgrade.remoteAddress
    this.#keepContext(state, admission.context)
    const connection = this.#open(server, state, (socket) =>
      this.server.handleConnection(socket, upgrade, admission),
    )
    if (connection.handle?.id) this.#save(connection)
    return webSocketResponse(client)
  }

  /** A frame arrived; a socket from before a hibernation is resumed from its attachment first. */
  webSocketMessage(socket: HibernatableWebSocket, message: string | ArrayBuffer): void {
    this.#timers.wake()
    const connection = this.#bySocket.get(socket) ?? this.#resume(socket)
    if (!connection) return
    const frame = typeof message === 'string' ? message : toBytes(message)
    if (connection.state.format === undefined) {
      connection.state.format = detectFormat(frame)
      this.#save(connection)
    }
    connection.handle?.receive(frame)
  }

  /** The client closed: the connection ends and the closing handshake is completed. */
  webSocketClose(socket: HibernatableWebSocket, code: number, reason: string): void {
    this.#timers.wake()
    this.#bySocket.get(socket)?.handle?.closed()
    // Completes the closing handshake (compatibility dates before 2026-04-07 do not do it alone).
    closeQuietly(socket, code, reason)
  }

  /** The socket failed: the connection ends. */
  webSocketError(socket: HibernatableWebSocket): void {
    this.#timers.wake()
    this.#bySocket.get(socket)?.handle?.closed()
  }

  /** Flushes, closes every socket with 1001 and stops the server (e.g. to retire a room). */
  close(): Promise<void> {
    return this.server.close()
  }

  // ------------------------------------------------------------------ connections

  #open(
    socket: HibernatableWebSocket,
    state: StoredConnection,
    serve: (socket: SyncSocket) => ConnectionHandle,
    key?: string,
  ): Connection {
    const connection: Connection = { socket, state, handle: undefined, key }
    this.#bySocket.set(socket, connection)
    this.#opening = connection
    try {
      connection.handle = serve(syncSocketOf(socket))
    } finally {
      this.#opening = undefined
    }
    return connection
  }

  /** Every socket the object held before it was evicted, served again as it was. */
  #resumeAll(): void {
    const sockets = this.#ctx.getWebSockets()
    const keys = new Set<string>()
    for (const socket of sockets) {
      const key = this.#resume(socket)?.key
      if (key !== undefined) keys.add(key)
    }
    // Rows of sockets that closed while nobody was awake to forget them.
    const { sql } = this.#ctx.storage
    for (const row of sql.exec<{ key: string }>('SELECT key FROM synckit_connections').toArray()) {
      if (!keys.has(row.key)) sql.exec('DELETE FROM synckit_connections WHERE key = ?', row.key)
    }
  }

  #resume(socket: HibernatableWebSocket): Connection | undefined {
    const { state, key } = this.#restore(socket.deserializeAttachment())
    const scope = state ? decodeScope(state.scope) : undefined
    if (
      !state?.principal ||
      state.contextNotKept ||
      !scope ||
      (this.#scope && !sameScope(this.#scope, scope))
    ) {
      // Not authenticated before the eviction, its context lost (or unreadable): a reconnect
      // passes the upgrade check again and does it properly.
      closeQuietly(socket, 1012, 'Server restarted; reconnect')
      return undefined
    }
    this.#scope = scope
    const documents = state.documents
    // The server's `subscribed` events refill the list: a document no longer allowed drops out.
    const resumed: StoredConnection = { ...state, documents: [] }
    const request = {
      ...(state.url ? { url: state.url } : {}),
      ...(state.ip ? { remoteAddress: state.ip } : {}),
    }
    const { principal, format, context } = state
    const connection = this.#open(
      socket,
      resumed,
      (syncSocket) =>
        this.server.resumeConnection(syncSocket, request, {
          principal,
          documents,
          ...(format ? { format } : {}),
          ...(context !== undefined ? { context } : {}),
        }),
      key,
    )
    if (resumed.documents.length !== documents.length) this.#save(connection)
    return connection
  }

  #restore(attachment: unknown): { state: StoredConnection | undefined; key?: string } {
    if (!isRecord(attachment) || attachment.v !== 1) return { state: undefined }
    if (typeof attachment.key !== 'string') return { state: attachment as unknown as StoredConnection }
    const key = attachment.key
    const [row] = this.#ctx.storage.sql
      .exec<{ state: string }>('SELECT state FROM synckit_connections WHERE key = ?', key)
      .toArray()
    return { state: row ? (JSON.parse(row.state) as StoredConnection) : undefined, key }
  }

  /** The admission's context goes with the socket when it is JSON data; else it cannot resume. */
  #keepContext(state: StoredConnection, context: unknown): void {
    if (context === undefined) return
    if (isJsonData(context)) {
      state.context = context
      return
    }
    state.contextNotKept = true
    if (this.#warnedContext) return
    this.#warnedContext = true
    this.#logger.warn(
      { operation: 'hibernation' },
      'connection context is not JSON data: its connections reconnect when the object wakes from hibernation',
    )
  }

  /** The connection's state goes with its socket; above the attachment limit, into SQLite. */
  #save(connection: Connection): void {
    const { socket, state } = connection
    if (socket.readyState !== OPEN) return
    const { sql } = this.#ctx.storage
    try {
      socket.serializeAttachment(state)
      if (connection.key !== undefined) {
        sql.exec('DELETE FROM synckit_connections WHERE key = ?', connection.key)
        connection.key = undefined
      }
      return
    } catch {
      // Too large for an attachment: keep it in a row the attachment points to.
    }
    connection.key ??= crypto.randomUUID()
    sql.exec(
      'INSERT OR REPLACE INTO synckit_connections (key, state) VALUES (?, ?)',
      connection.key,
      JSON.stringify(state),
    )
    const reference: StoredReference = { v: 1, key: connection.key }
    socket.serializeAttachment(reference)
  }

  #forget(connection: Connection): void {
    if (connection.handle) this.#byId.delete(connection.handle.id)
    if (connection.key !== undefined) {
      this.#ctx.storage.sql.exec('DELETE FROM synckit_connections WHERE key = ?', connection.key)
      connection.key = undefined
    }
  }

  /** Keeps each socket's stored state in step with what the server says about its connection. */
  #track(server: SyncServer<Context>): void {
    const find = (id: string): Connection | undefined => this.#byId.get(id)
    server.on('connection', ({ connectionId }) => {
      if (this.#opening) this.#byId.set(connectionId, this.#opening)
    })
    server.on('authenticated', ({ connectionId, principal }) => {
      const connection = find(connectionId)
      if (!connection) return
      connection.state.principal = principal
      this.#saveUnlessOpening(connection)
    })
    server.on('subscribed', ({ connectionId, documentId }) => {
      const connection = find(connectionId)
      if (!connection || connection.state.documents.includes(documentId)) return
      connection.state.documents.push(documentId)
      this.#saveUnlessOpening(connection)
    })
    server.on('unsubscribed', ({ connectionId, documentId }) => {
      const connection = find(connectionId)
      if (!connection) return
      connection.state.documents = connection.state.documents.filter((id) => id !== documentId)
      this.#saveUnlessOpening(connection)
    })
    server.on('disconnect', ({ connectionId }) => {
      const connection = find(connectionId)
      if (connection) this.#forget(connection)
    })
  }

  /** While a connection is being opened or resumed, it is saved once at the end instead. */
  #saveUnlessOpening(connection: Connection): void {
    if (connection !== this.#opening) this.#save(connection)
  }

  /** Time-driven work the server still has: the object must not go idle before it is done. */
  #hasWork(): boolean {
    const stats = this.server.stats()
    return (
      stats.awarenessClients > 0 ||
      stats.authenticatedConnections < stats.connections ||
      stats.queuedMessages > 0 ||
      stats.inFlight > 0 ||
      stats.pendingPersistBatches > 0
    )
  }
}

/** `send` never throws and reports bytes; workerd exposes no send buffer, so never -1. */
function syncSocketOf(socket: HibernatableWebSocket): SyncSocket {
  return {
    send(data) {
      if (socket.readyState !== OPEN) return 0
      try {
        socket.send(data)
      } catch {
        return 0
      }
      return typeof data === 'string' ? data.length : data.byteLength
    },
    close: (code, reason) => closeQuietly(socket, code, reason),
  }
}

function closeQuietly(socket: HibernatableWebSocket, code: number, reason: string): void {
  try {
    socket.close(code, reason)
  } catch {
    try {
      socket.close()
    } catch {
      // Already closed.
    }
  }
}

/** The upgrade URL as kept with the socket: a `?token=` is not kept (attachments may reach disk). */
function withoutToken(url: string): string {
  const parsed = new URL(url, 'http://localhost')
  parsed.searchParams.delete('token')
  return parsed.pathname + parsed.search
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

function text(status: number, body: string): Response {
  return new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } })
}
