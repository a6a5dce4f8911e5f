import { EventEmitter } from 'eventemitter3'
import { decodeServerFrame, encodeFrame } from '../protocol/index.js'
import type { JsonValue, WireFormat } from '../protocol/types.js'
import { AwarenessDoc } from './awareness.js'
import { reconnectDelay } from './backoff.js'
import { type Deferred, deferred } from './deferred.js'
import { FrameBuilder, type OutFrame } from './frames.js'
import { handleServerMessage, type InboundHost } from './inbound.js'
import { randomId, TOMBSTONE } from './json.js'
import { LiveDocuments } from './live.js'
import { PingTracker } from './pings.js'
import { Replica } from './replica.js'
import { openSocket, resolveWebSocket } from './socket.js'
import { Subscriptions } from './subscriptions.js'
import type {
  AwarenessEvent,
  AwarenessHandle,
  ChangeOrigin,
  ClientDialect,
  DocumentReplica,
  DocumentSubscription,
  DocumentView,
  PresenceEntry,
  ReconnectOptions,
  SyncClient,
  SyncClientEvents,
  SyncClientOptions,
  SyncServerError,
  WebSocketConstructorLike,
  WebSocketLike,
} from './types.js'
import { Writes } from './writes.js'

type Phase = 'idle' | 'connecting' | 'authenticating' | 'ready' | 'closed'

/** A SyncKit protocol client (both dialects, binary or JSON), with reconnect and resync. */
export function createSyncClient(options: SyncClientOptions): SyncClient {
  return new SyncClientImpl(options)
}

class SyncClientImpl extends EventEmitter<SyncClientEvents> implements SyncClient {
  readonly clientId: string
  private readonly url: string
  private readonly dialect: ClientDialect
  private readonly format: WireFormat
  private readonly credentials: { token?: string; apiKey?: string }
  private readonly timeoutMs: number
  private readonly reconnectOptions: ReconnectOptions | false
  private readonly refreshMs: number
  private readonly Ctor: WebSocketConstructorLike
  private readonly frames: FrameBuilder
  private readonly writes: Writes
  private readonly replicas = new Map<string, Replica>()
  private readonly subs: Subscriptions
  private readonly presence = new Map<string, AwarenessDoc>()
  private readonly pings = new PingTracker()
  private readonly inbound: InboundHost
  private readonly live = new LiveDocuments({
    view: (documentId) => this.view(documentId),
    setPresence: (documentId, state) => this.awareness(documentId).set(state),
    reportError: (error) => this.emitError(asError(error)),
  })
  private connectWaiters: Deferred<void>[] = []
  private socket: WebSocketLike | undefined
  private phase: Phase = 'idle'
  private everReady = false
  /** Set by `disconnect()` and by an authentication failure; cleared by `connect()`. */
  private noReconnect = false
  private reconnectAttempt = 0
  private connectTimer: ReturnType<typeof setTimeout> | undefined
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined
  private refreshTimer: ReturnType<typeof setInterval> | undefined

  constructor(options: SyncClientOptions) {
    super()
    this.url = options.url
    this.dialect = options.dialect ?? 'sdk'
    this.format = options.format ?? 'binary'
    this.credentials = { token: options.token, apiKey: options.apiKey }
    this.clientId = options.clientId ?? randomId('client')
    this.timeoutMs = options.requestTimeoutMs ?? 10_000
    this.reconnectOptions = options.reconnect ?? {}
    this.refreshMs = options.awarenessRefreshMs ?? 15_000
    this.Ctor = resolveWebSocket(options.WebSocket)
    this.frames = new FrameBuilder(this.dialect, this.clientId, () => randomId('req'))
    // One host object serves both helpers: they only see what they need of the client.
    const host = {
      dialect: this.dialect,
      clientId: this.clientId,
      timeoutMs: this.timeoutMs,
      frames: this.frames,
      isReady: () => this.phase === 'ready',
      send: (frame: OutFrame) => this.send(frame),
      ensureReplica: (documentId: string) => this.ensureReplica(documentId),
      emitChange: (documentId: string, fields: string[], origin: ChangeOrigin) =>
        this.emitChange(documentId, fields, origin),
      emitError: (error: Error) => this.emitError(error),
    }
    this.writes = new Writes(host, options.maxQueuedWrites ?? 1000)
    this.subs = new Subscriptions(host)
    this.inbound = {
      ...host,
      writes: this.writes,
      subs: this.subs,
      pings: this.pings,
      authenticating: () => this.phase === 'authenticating',
      becomeReady: () => this.becomeReady(),
      authFailed: (error) => this.authFailed(error),
      replica: (documentId) => this.replicas.get(documentId),
      presence: (documentId) => this.presence.get(documentId),
      emitDelta: (event) => this.emit('delta', event),
      emitAwareness: (event) => this.emitAwareness(event),
    }
  }

  get connected(): boolean {
    return this.phase === 'ready'
  }

  // ------------------------------------------------------------------ public API

  connect(): Promise<void> {
    if (this.phase === 'closed') return Promise.reject(new Error('Client is closed'))
    if (this.phase === 'ready') return Promise.resolve()
    this.noReconnect = false
    const waiter = deferred<void>()
    this.connectWaiters.push(waiter)
    if (this.phase === 'idle') {
      clearTimeout(this.reconnectTimer)
      this.reconnectTimer = undefined
      this.startSocket()
    }
    return waiter.promise
  }

  subscribe(documentId: string): Promise<DocumentReplica>
  subscribe(documentId: string, onChange: (view: DocumentView) => void): DocumentSubscription
  subscribe(
    documentId: string,
    onChange?: (view: DocumentView) => void,
  ): Promise<DocumentReplica> | DocumentSubscription {
    if (onChange === undefined) return this.subscribeDocument(documentId)
    const ready = this.subscribeDocument(documentId)
    // Awaiting `ready` is optional: a refusal is also reported as an 'error' event.
    ready.catch(() => {})
    if (this.phase !== 'closed') this.awareness(documentId)
    return this.live.add(documentId, ready, onChange)
  }

  private subscribeDocument(documentId: string): Promise<DocumentReplica> {
    if (this.phase === 'closed') return Promise.reject(new Error('Client is closed'))
    const replica = this.ensureReplica(documentId)
    replica.subscribed = true
    if (replica.synced && !this.subs.has(documentId)) return Promise.resolve(replica)
    return this.subs.wait(documentId)
  }

  set(documentId: string, field: string, value: JsonValue): Promise<void> {
    return this.write(documentId, [[field, value]])
  }

  delete(documentId: string, field: string): Promise<void> {
    return this.write(documentId, [[field, TOMBSTONE]])
  }

  setMany(documentId: string, fields: Record<string, JsonValue>): Promise<void> {
    return this.write(documentId, Object.entries(fields))
  }

  get(documentId: string): Record<string, JsonValue> | undefined {
    return this.replicas.get(documentId)?.toJSON()
  }

  awareness(documentId: string): AwarenessHandle {
    let doc = this.presence.get(documentId)
    if (!doc) {
      doc = new AwarenessDoc(documentId, this.clientId)
      this.presence.set(documentId, doc)
      if (this.phase === 'ready') this.send(this.frames.awarenessSubscribe(documentId))
    }
    const presence = doc
    return {
      set: (state) => {
        const clock = presence.setOwn(state)
        this.live.touch(documentId)
        if (this.phase === 'ready') this.send(this.frames.awarenessUpdate(documentId, state, clock))
      },
      states: () => presence.snapshot(),
    }
  }

  ping(): Promise<number> {
    if (this.phase !== 'ready') return Promise.reject(new Error('Not connected'))
    const rtt = this.pings.start(this.timeoutMs)
    this.send(this.frames.ping())
    return rtt
  }

  disconnect(): void {
    this.noReconnect = true
    clearTimeout(this.reconnectTimer)
    this.reconnectTimer = undefined
    const socket = this.socket
    if (!socket) return
    if (this.phase === 'ready') {
      // Announce leaving, as the SDK does on unload, so peers need not wait for expiry.
      for (const doc of this.presence.values()) {
        if (doc.own) this.send(this.frames.awarenessUpdate(doc.documentId, null, doc.bumpOwn()))
      }
    }
    this.dropConnection(1000, 'Client disconnect', new Error('Disconnected'))
    closeQuietly(socket, 1000, 'Client disconnect')
  }

  close(): void {
    if (this.phase === 'closed') return
    this.disconnect()
    this.phase = 'closed'
    const error = new Error('Client closed')
    this.subs.failAll(error)
    this.writes.rejectAll(error)
    this.rejectConnectWaiters(error)
  }

  // ------------------------------------------------------------------ connection lifecycle

  private startSocket(): void {
    this.phase = 'connecting'
    let socket: WebSocketLike
    try {
      socket = openSocket(this.Ctor, this.url, {
        open: () => this.socket === socket && this.onOpen(),
        frame: (frame) => this.socket === socket && this.onFrame(frame),
        close: (code, reason) => this.socket === socket && this.dropConnection(code, reason),
        error: (error) => this.socket === socket && this.emitError(error),
      })
    } catch (error) {
      this.phase = 'idle'
      this.emitError(asError(error))
      this.rejectConnectWaiters(asError(error))
      if (this.willReconnect()) this.scheduleReconnect()
      return
    }
    this.socket = socket
    this.connectTimer = setTimeout(() => {
      this.dropConnection(1006, 'Connect timeout', new Error(`Timed out connecting to ${this.url}`))
      closeQuietly(socket, 1000, 'Connect timeout')
    }, this.timeoutMs)
  }

  private onOpen(): void {
    const { token, apiKey } = this.credentials
    // The legacy test client always authenticates; the SDK only with credentials (docs/protocol.md §10.1, §10.3).
    if (this.dialect === 'legacy' || token !== undefined || apiKey !== undefined) {
      this.phase = 'authenticating'
      this.send(this.frames.auth(token, apiKey))
    } else {
      this.becomeReady()
    }
  }

  private becomeReady(): void {
    clearTimeout(this.connectTimer)
    this.phase = 'ready'
    const reconnected = this.everReady
    this.everReady = true
    this.reconnectAttempt = 0
    // Order as the SDK: subscriptions first, then presence, then the queued writes in FIFO order.
    for (const replica of this.replicas.values()) if (replica.subscribed) this.subs.resubscribe(replica)
    for (const doc of this.presence.values()) {
      this.send(this.frames.awarenessSubscribe(doc.documentId))
      if (doc.own) this.send(this.frames.awarenessUpdate(doc.documentId, doc.own, doc.bumpOwn()))
    }
    this.writes.flush()
    this.startRefresh()
    for (const waiter of this.connectWaiters) waiter.resolve()
    this.connectWaiters = []
    this.live.touchAll()
    this.emit('open', { reconnected })
  }

  /**
   * The current connection is gone (closed by either side, timed out, or dropped by us). Every
   * in-flight request becomes unsent again, to be re-sent on the next connection.
   */
  private dropConnection(code: number, reason: string, error?: Error): void {
    const wasReady = this.phase === 'ready'
    this.socket = undefined
    clearTimeout(this.connectTimer)
    clearInterval(this.refreshTimer)
    this.refreshTimer = undefined
    if (this.phase !== 'closed') this.phase = 'idle'
    this.subs.connectionLost()
    this.writes.connectionLost()
    this.pings.rejectAll(new Error('Connection closed'))
    this.forgetPeers()
    if (!wasReady) {
      this.rejectConnectWaiters(
        error ?? new Error(`Could not connect to ${this.url} (${code} ${reason})`.trim()),
      )
    }
    const willReconnect = this.willReconnect()
    if (wasReady) this.live.touchAll()
    if (wasReady) this.emit('close', { code, reason, willReconnect })
    if (willReconnect) this.scheduleReconnect()
  }

  /** Peers are reported gone, so a peer that leaves while we are offline is not shown forever. */
  private forgetPeers(): void {
    for (const doc of this.presence.values()) {
      for (const { clientId, clock } of doc.forgetPeers()) {
        this.emitAwareness({ documentId: doc.documentId, clientId, state: null, clock })
      }
    }
  }

  private willReconnect(): boolean {
    return this.reconnectOptions !== false && !this.noReconnect && this.everReady && this.phase !== 'closed'
  }

  private scheduleReconnect(): void {
    if (this.reconnectOptions === false || this.reconnectTimer) return
    this.reconnectAttempt++
    const delay = reconnectDelay(this.reconnectAttempt, this.reconnectOptions)
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined
      if (this.phase === 'idle' && !this.noReconnect) this.startSocket()
    }, delay)
  }

  private startRefresh(): void {
    if (this.refreshMs <= 0) return
    this.refreshTimer = setInterval(() => {
      for (const doc of this.presence.values()) {
        if (doc.own) this.send(this.frames.awarenessUpdate(doc.documentId, doc.own, doc.bumpOwn()))
      }
    }, this.refreshMs)
    unref(this.refreshTimer)
  }

  private rejectConnectWaiters(error: Error): void {
    const waiters = this.connectWaiters
    this.connectWaiters = []
    for (const waiter of waiters) waiter.reject(error)
  }

  // ------------------------------------------------------------------ inbound

  private onFrame(frame: string | Uint8Array): void {
    try {
      const decoded = decodeServerFrame(frame)
      if (!decoded.ok) {
        this.emitError(new Error(`Invalid server frame: ${decoded.error.message}`))
        return
      }
      handleServerMessage(this.inbound, decoded.message)
      this.emit('message', decoded.message)
    } catch (error) {
      this.emitError(asError(error))
    }
  }

  private authFailed(error: SyncServerError): void {
    this.noReconnect = true
    this.emitError(error)
    const socket = this.socket
    this.dropConnection(1008, error.message, error)
    if (socket) closeQuietly(socket, 1000, 'Authentication failed')
  }

  // ------------------------------------------------------------------ helpers

  private write(documentId: string, fields: Array<[string, JsonValue]>): Promise<void> {
    if (this.phase === 'closed') return Promise.reject(new Error('Client is closed'))
    return this.writes.write(documentId, fields)
  }

  private ensureReplica(documentId: string): Replica {
    let replica = this.replicas.get(documentId)
    if (!replica) {
      replica = new Replica(documentId)
      this.replicas.set(documentId, replica)
    }
    return replica
  }

  private send(frame: OutFrame): void {
    const socket = this.socket
    if (!socket) return
    try {
      socket.send(encodeFrame(frame.type, frame.fields, Date.now(), this.format))
    } catch (error) {
      this.emitError(asError(error))
    }
  }

  /** Also called without fields when only the pending writes changed (queued, acknowledged). */
  private emitChange(documentId: string, fields: string[], origin: ChangeOrigin): void {
    this.live.touch(documentId)
    if (fields.length > 0) this.emit('change', { documentId, fields, origin })
  }

  private emitAwareness(event: AwarenessEvent): void {
    this.live.touch(event.documentId)
    this.emit('awareness', event)
  }

  private view(documentId: string): DocumentView {
    const replica = this.replicas.get(documentId)
    const presence: PresenceEntry[] = []
    for (const [clientId, { state }] of this.presence.get(documentId)?.peers ?? []) {
      presence.push(Object.freeze({ clientId, state, self: clientId === this.clientId }))
    }
    presence.sort((a, b) => Number(b.self) - Number(a.self) || (a.clientId < b.clientId ? -1 : 1))
    return Object.freeze({
      documentId,
      fields: Object.freeze(replica?.toJSON() ?? {}),
      presence: Object.freeze(presence),
      synced: replica?.synced ?? false,
      pendingWrites: this.writes.pendingFor(documentId),
      connected: this.phase === 'ready',
    })
  }

  /** Errors never escape into socket callbacks, even from a throwing 'error' listener. */
  private emitError(error: Error): void {
    try {
      this.emit('error', error)
    } catch {
      // Nothing left to report to.
    }
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

function closeQuietly(socket: WebSocketLike, code: number, reason: string): void {
  try {
    socket.close(code, reason)
  } catch {
    // Already closing or closed.
  }
}

/** Node timers keep the process alive; a presence refresh alone should not. */
function unref(timer: unknown): void {
  if (typeof timer === 'object' && timer !== null && 'unref' in timer && typeof timer.unref === 'function') {
    timer.unref()
  }
}
