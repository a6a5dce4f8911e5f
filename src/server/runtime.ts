import { EventEmitter } from 'eventemitter3'
import type { ClusterBridge } from '../cluster/bridge.js'
import type { Broker } from '../cluster/broker.js'
import { ANONYMOUS_PERMISSIONS, SyncEngine } from '../engine/index.js'
import type {
  Effect,
  EngineEvent,
  LoadEffect,
  Resolution,
  ResumedConnection,
  RevokeTarget,
} from '../engine/types.js'
import { isJsonObject, isJsonValue } from '../protocol/index.js'
import type { JsonValue } from '../protocol/types.js'
import { resolveClientIp } from './client-ip.js'
import { linkBroker } from './cluster-link.js'
import {
  connectionInfo,
  HeartbeatSweep,
  heartbeatGapMs,
  REFUSED,
  retainedRequest,
  ServerConnection,
  type SocketEvents,
  SocketHandle,
} from './connection.js'
import { ConnectionSlots, type Reservation } from './connection-slots.js'
import { DocumentsApi } from './documents-api.js'
import { closeCodeOf, type DoorDecision, passDoor } from './door.js'
import {
  type ClusterLink,
  type EffectHost,
  interpretEffects,
  SINGLE_NODE,
  SLOW_CLIENT_CODE,
  SLOW_CLIENT_REASON,
} from './effects.js'
import { type ErrorContext, type SyncServerEvents, toError, toPublicEvent } from './events.js'
import { type HttpSource, handleHttpRequest, withSecurityHeaders } from './http.js'
import { openToAnonymous } from './inspector/access.js'
import { createInspectorData } from './inspector/data.js'
import type { InspectorSource } from './inspector/routes.js'
import { authenticateTask, deleteTask, loadTask, PersistBackoff, persistTask } from './io-tasks.js'
import type { Logger } from './logger.js'
import { PersistQueue } from './persist-queue.js'
import { TextMetrics } from './prometheus.js'
import { checkReadiness } from './readiness.js'
import { healthReport, queuedTotals, serverStats } from './reports.js'
import type { ResolvedServerOptions } from './resolve-options.js'
import { type RestHandler, restFor } from './rest/index.js'
import { after, delay, endOfTurn, INTERVAL_TIMERS, type RepeatingTimer } from './scheduler.js'
import { ServerMetrics } from './server-metrics.js'
import {
  type ConnectionHandle,
  type ConnectionOptions,
  type SyncSocket,
  type UpgradeAdmission,
  type UpgradeRefusalCode,
  type UpgradeRequest,
  type UpgradeResult,
  upgradeRefusal,
} from './transport.js'
import type { RuntimeLimits, ServerStats, SyncServer } from './types.js'

/** Flush/wait rounds at shutdown: a failed persist is retried by the next flush, but not forever. */
const SHUTDOWN_ROUNDS = 5

type State = 'running' | 'closing' | 'closed'

/**
 * The runtime around the pure engine: it owns sockets, time, timers and the store, feeds every
 * input to the engine with `Date.now()`, and performs the effects that come back.
 */
export class SyncServerRuntime extends EventEmitter<SyncServerEvents> implements SyncServer {
  readonly nodeId: string
  readonly limits: Readonly<RuntimeLimits>
  readonly logger: Logger
  readonly documents: DocumentsApi
  readonly #options: ResolvedServerOptions
  readonly #engine: SyncEngine
  readonly #metrics: ServerMetrics
  readonly #host: EffectHost
  readonly #connections = new Map<string, ServerConnection>()
  /** Counts open connections and reserved slots alike. */
  readonly #slots: ConnectionSlots
  readonly #inFlight = new Set<Promise<void>>()
  /** Last local or remote change per in-memory document (for `/health` when ids are exposed). */
  readonly #lastModified = new Map<string, number>()
  readonly #startedAt = Date.now()
  readonly #timers: RepeatingTimer[]
  readonly #sweep = new HeartbeatSweep()
  #nextConnection = 1
  /** Effect batches being performed (a batch can start another only through a listener). */
  #performing = 0
  /**
   * Connections closed while a batch was performed (a slow reader, an engine-asked close): the
   * engine is told after the batch, so the effects of the close follow the batch's, in order.
   */
  readonly #closedMidBatch: { connection: ServerConnection; code?: number; reason?: string }[] = []
  #flushScheduled = false
  #state: State = 'running'
  #closed: Promise<void> | undefined
  readonly #inspector: InspectorSource | undefined
  readonly #bridge: ClusterBridge | undefined
  readonly #rest: RestHandler | undefined
  #cluster: ClusterLink | undefined

  constructor(options: ResolvedServerOptions) {
    super()
    this.#options = options
    this.nodeId = options.nodeId
    this.logger = options.logger
    this.limits = Object.freeze({ ...options.limits })
    this.#slots = new ConnectionSlots(this.limits)
    this.#engine = new SyncEngine(options.engine)
    this.#metrics = new ServerMetrics({
      connections: () => this.#connections.size,
      documents: () => this.#engine.stats().documents,
      subscriptions: () => this.#engine.stats().subscriptions,
      awarenessClients: () => this.#engine.stats().awarenessClients,
      queuedMessages: () => queuedTotals(this.#connections).messages,
      pendingPersistBatches: () => this.#engine.stats().pendingPersistBatches,
      uptimeSeconds: () => this.#uptimeSeconds(),
      inbound: () => this.#engine.inboundCounters(),
    })
    this.#bridge = options.broker ? this.#createBridge(options.broker) : undefined
    this.#host = this.#createHost()
    this.documents = new DocumentsApi({
      store: options.store,
      accepting: () => this.#state === 'running',
      submit: (request) => {
        this.#run(this.#engine.serverRequest(request, Date.now()))
        this.#scheduleFlush()
      },
      localPresence: (documentId) => this.#engine.awarenessEntries(documentId),
      // A node with present clients holds the room, which has the other nodes' clients too.
      remotePresence: (documentId) =>
        this.#bridge && this.#engine.awarenessEntries(documentId).length === 0
          ? this.#bridge.queryPresence(documentId)
          : Promise.resolve([]),
    })
    this.#rest = restFor(options, {
      documents: this.documents,
      clientIp: (request) => this.#clientIp(request),
      fail: (error, operation) => this.#fail(error, { operation }),
    })
    this.#inspector = options.inspector ? this.#inspectorSource() : undefined
    const timers = options.timers ?? INTERVAL_TIMERS
    this.#timers = [
      timers.every(this.limits.tickIntervalMs, () => this.#tick()),
      timers.every(this.limits.heartbeatIntervalMs, () => this.#heartbeat()),
    ]
  }

  get closing(): boolean {
    return this.#state !== 'running'
  }

  async upgrade(request: UpgradeRequest): Promise<UpgradeResult> {
    const ip = this.#clientIp(request)
    const refusal = this.#checkDoor(request, ip)
    if (refusal) return this.#refuseUpgrade(refusal, ip)
    const reservation = this.#slots.reserve(ip)
    const decision = await this.#passDoor(request, ip, true)
    if (!decision.admitted || this.#state !== 'running') {
      this.#slots.release(reservation)
      return this.#refuseUpgrade(decision.admitted ? 'SERVER_SHUTTING_DOWN' : decision.code, ip)
    }
    reservation.expiresAt = Date.now() + this.#options.door.timeoutMs
    const admission: UpgradeAdmission = { ok: true }
    if (decision.principal) admission.principal = decision.principal
    if (decision.context !== undefined) admission.context = decision.context
    this.#slots.issue(admission, { reservation, verifiedCredentials: decision.verifiedCredentials === true })
    return admission
  }

  handleConnection(
    socket: SyncSocket,
    request: UpgradeRequest = {},
    options?: ConnectionOptions,
  ): ConnectionHandle {
    const ip = this.#clientIp(request)
    const { ticket, reserved } = this.#slots.claim(options)
    // A held slot was counted at the upgrade; otherwise every check of the door runs here.
    const refusal = reserved ? this.#checkAdmitted(ticket?.reservation, ip) : this.#checkDoor(request, ip)
    if (refusal) return this.#refuse(socket, ip, refusal)
    const now = Date.now()
    const id = `conn-${this.#nextConnection++}`
    const connection = new ServerConnection(id, socket, ip, request, this.limits, now)
    this.#connections.set(id, connection)
    this.#slots.opened(ip)
    this.#metrics.connectionsTotal.inc()
    const handle = this.#handleOf(connection)
    if (options?.principal || ticket || !this.#options.door.authenticate) {
      const admitted = { ...options, verifiedCredentials: ticket?.verifiedCredentials === true }
      this.#open(connection, { admitted: true, ...admitted })
      return handle
    }
    // No upgrade check came first: the hook decides now, and frames wait (bounded) meanwhile.
    connection.held = []
    void this.#passDoor(request, ip, false).then((decision) => {
      if (connection.closed) return
      if (!decision.admitted) return this.#closeConnection(connection, ...closeCodeOf(decision.code))
      const context = options?.context !== undefined ? options.context : decision.context
      this.#open(connection, context === undefined ? decision : { ...decision, context })
    })
    return handle
  }

  resumeConnection(
    socket: SyncSocket,
    request: UpgradeRequest,
    resumed: ResumedConnection,
  ): ConnectionHandle {
    const ip = this.#clientIp(request)
    if (this.#state !== 'running') return this.#refuse(socket, ip, 'SERVER_SHUTTING_DOWN')
    // Admitted before the restart: the connection caps are not checked a second time.
    const now = Date.now()
    const id = `conn-${this.#nextConnection++}`
    const connection = new ServerConnection(id, socket, ip, request, this.limits, now)
    connection.context = resumed.context
    this.#connections.set(id, connection)
    this.#slots.opened(ip)
    this.#safeEmit('connection', {
      connectionId: id,
      ip,
      userId: resumed.principal.userId,
      ...(resumed.context !== undefined ? { context: resumed.context } : {}),
    })
    this.#run(this.#engine.resume(id, now, resumed, ip))
    connection.request = retainedRequest(this.#options.door.verifyCredentials, request)
    this.#scheduleFlush()
    return this.#handleOf(connection)
  }

  /** The runtime's side of every handle, one object for all (see `SocketHandle`). */
  readonly #events: SocketEvents = {
    receive: (connection, frame) => this.#receive(connection, frame),
    closed: (connection) => this.#drop(connection),
    drained: (connection) => this.#drain(connection),
  }

  #handleOf(connection: ServerConnection): ConnectionHandle {
    return new SocketHandle(connection, this.#events)
  }

  /** Hands an admitted connection to the engine, then the frames that arrived meanwhile. */
  #open(connection: ServerConnection, decision: DoorDecision & { admitted: true }): void {
    if (this.#state !== 'running') return this.#closeConnection(connection, 1001, 'Server shutdown')
    const { id, ip, request } = connection
    connection.context = decision.context
    if (decision.principal) connection.userId = decision.principal.userId
    const held = connection.held
    connection.held = undefined
    this.#safeEmit('connection', {
      connectionId: id,
      ip,
      ...(decision.principal ? { userId: decision.principal.userId } : {}),
      ...(decision.context !== undefined ? { context: decision.context } : {}),
    })
    const canVerify = this.#options.door.verifyCredentials !== undefined
    this.#run(this.#engine.open(id, Date.now(), connectionInfo(ip, request ?? {}, canVerify, decision)))
    connection.request = retainedRequest(this.#options.door.verifyCredentials, request ?? {})
    if (held) for (const frame of held) this.#receive(connection, frame)
    this.#scheduleFlush()
  }

  /** The checks that need no I/O: shutdown, origin, the caps (reserved slots count). */
  #checkDoor(request: UpgradeRequest, ip: string | undefined): UpgradeRefusalCode | undefined {
    if (this.#state !== 'running') return 'SERVER_SHUTTING_DOWN'
    if (this.#options.originAllowed && !this.#options.originAllowed(request)) return 'ORIGIN_NOT_ALLOWED'
    return this.#slots.refusal(ip, this.#connections.size)
  }

  /** A socket whose slot `upgrade` held (see `ConnectionSlots.admittedRefusal`). */
  #checkAdmitted(
    reservation: Reservation | undefined,
    ip: string | undefined,
  ): UpgradeRefusalCode | undefined {
    if (this.#state !== 'running') return 'SERVER_SHUTTING_DOWN'
    return this.#slots.admittedRefusal(reservation, ip)
  }

  #passDoor(
    request: UpgradeRequest,
    ip: string | undefined,
    checkCredentials: boolean,
  ): Promise<DoorDecision> {
    return passDoor(this.#options.door, request, ip, checkCredentials, (error, what) =>
      this.#fail(error, { operation: what === 'authenticate' ? 'authenticate' : 'verify-credentials' }),
    )
  }

  #clientIp(request: UpgradeRequest): string | undefined {
    return resolveClientIp(request, this.#options.trustProxy)
  }

  async fetch(request: Request): Promise<Response> {
    const auth = this.#options.authRoutes ? await this.#options.authRoutes(request) : undefined
    if (auth) return withSecurityHeaders(auth)
    return handleHttpRequest(request, this.#httpSource())
  }

  metrics(): string {
    return this.#metrics.render()
  }

  addMetrics(render: () => string): void {
    this.#metrics.registry.register(new TextMetrics(render))
  }

  stats(): ServerStats {
    return serverStats(this.#engine, this.#metrics, this.#connections, {
      inFlight: this.#inFlight.size,
      startedAt: this.#startedAt,
      uptimeSeconds: this.#uptimeSeconds(),
    })
  }

  documentState(documentId: string): Record<string, unknown> | undefined {
    return this.#engine.documentState(documentId)
  }

  revoke(target: RevokeTarget): void {
    if (this.#state === 'closed') return
    this.#run(this.#engine.revoke(target, Date.now()))
    this.#host.cluster.publishRevoke?.(target)
    this.#scheduleFlush()
  }

  close(): Promise<void> {
    this.#closed ??= this.#shutdown()
    return this.#closed
  }

  // ------------------------------------------------------------------ socket events

  #receive(connection: ServerConnection, frame: string | Uint8Array): void {
    if (connection.closed || this.#state !== 'running') return
    if (connection.held) return this.#hold(connection, frame)
    const now = Date.now()
    connection.lastSeen = now
    this.#run(this.#engine.receive(connection.id, frame, now))
    this.#scheduleFlush()
  }

  /** The connection is gone (transport report, or we closed it). Idempotent. */
  #drop(connection: ServerConnection, code?: number, reason?: string): void {
    if (connection.closed) return
    connection.closed = true
    connection.outbound.clear()
    this.#connections.delete(connection.id)
    this.#slots.closed(connection.ip)
    // Still at the door: the engine never saw it, and no `connection` event announced it.
    if (connection.held) return
    if (this.#performing > 0) {
      this.#closedMidBatch.push({ connection, code, reason })
      return
    }
    this.#tellEngineClosed(connection, code, reason)
  }

  /** The `close` input, and the `disconnect` event after the effects it has. */
  #tellEngineClosed(connection: ServerConnection, code?: number, reason?: string): void {
    this.#run(this.#engine.close(connection.id, Date.now()))
    this.#scheduleFlush()
    this.#safeEmit('disconnect', {
      connectionId: connection.id,
      ip: connection.ip,
      ...(connection.userId !== undefined ? { userId: connection.userId } : {}),
      ...(connection.context !== undefined ? { context: connection.context } : {}),
      ...(code !== undefined ? { code } : {}),
      ...(reason !== undefined ? { reason } : {}),
    })
  }

  /** A frame before the engine knows the connection: bounded like the engine's pre-auth buffer. */
  #hold(connection: ServerConnection, frame: string | Uint8Array): void {
    const held = connection.held
    if (!held) return
    const { maxPreAuthFrames, maxPreAuthBytes } = this.#options.engine.limits ?? {}
    connection.heldBytes += typeof frame === 'string' ? frame.length : frame.byteLength
    held.push(frame)
    if (held.length > (maxPreAuthFrames ?? 0) || connection.heldBytes > (maxPreAuthBytes ?? 0)) {
      this.#closeConnection(connection, 1008, 'Too many messages before authentication')
    }
  }

  #closeConnection(connection: ServerConnection, code: number, reason: string): void {
    if (connection.closed) return
    if (code === SLOW_CLIENT_CODE)
      this.logger.info({ connectionId: connection.id, ip: connection.ip }, reason)
    // Last words (e.g. `auth_error`) may be queued behind backpressure: one best-effort drain.
    if (code !== SLOW_CLIENT_CODE) connection.outbound.drain()
    connection.closeSocket(code, reason)
    this.#drop(connection, code, reason)
  }

  #drain(connection: ServerConnection): void {
    if (connection.closed) return
    const result = connection.outbound.drain()
    if (result === 'overflow') {
      this.#metrics.slowClosed.inc()
      this.#closeConnection(connection, SLOW_CLIENT_CODE, SLOW_CLIENT_REASON)
    } else if (typeof result === 'number' && result > 0) {
      this.#metrics.bytesOut.inc(result)
    }
  }

  /** Refused at accept: the socket is closed with the code a refusal after the handshake has. */
  #refuse(socket: SyncSocket, ip: string | undefined, refusal: UpgradeRefusalCode): ConnectionHandle {
    const [code, reason] = closeCodeOf(refusal)
    this.#metrics.connectionsRejected.inc(1, code === 1001 ? 'shutdown' : reason)
    try {
      socket.close(code, reason)
    } catch {
      // The socket is already gone.
    }
    this.logger.debug({ ip, code, reason }, 'connection refused')
    this.#safeEmit('connection-rejected', { ip, code, reason })
    return REFUSED
  }

  /** Refused before the handshake: the transport answers with the HTTP status. */
  #refuseUpgrade(code: UpgradeRefusalCode, ip: string | undefined): UpgradeResult {
    const refusal = upgradeRefusal(code)
    const reason = refusal.error.message
    this.#metrics.connectionsRejected.inc(1, code === 'SERVER_SHUTTING_DOWN' ? 'shutdown' : reason)
    this.logger.debug({ ip, status: refusal.status, reason }, 'upgrade refused')
    this.#safeEmit('connection-rejected', { ip, status: refusal.status, reason })
    return refusal
  }

  // ------------------------------------------------------------------ timers

  #tick(): void {
    const now = Date.now()
    this.#slots.expire(now)
    this.#run(this.#engine.tick(now))
    for (const connection of this.#connections.values()) {
      if (connection.outbound.pressured) this.#drain(connection)
    }
    this.#scheduleFlush()
  }

  /** Protocol-level liveness (see `HeartbeatSweep`), a chunk per I/O turn. */
  #heartbeat(): void {
    if (this.#sweep.running) return
    this.#sweep.start(this.#connections.values())
    const gapMs = heartbeatGapMs(this.#sweep.size, this.limits.heartbeatIntervalMs)
    const step = (): void => {
      if (this.#state !== 'running') return
      const more = this.#sweep.step(Date.now(), (connection) =>
        this.#drop(connection, 1001, 'Heartbeat timeout'),
      )
      if (!more) return
      if (gapMs > 0) after(gapMs, step)
      else endOfTurn(step)
    }
    step()
  }

  /** One engine flush at the end of the I/O turn, however many frames and resolutions it had. */
  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#state === 'closed') return
    this.#flushScheduled = true
    endOfTurn(() => {
      this.#flushScheduled = false
      if (this.#state !== 'closed') this.#run(this.#engine.flush(Date.now()))
    })
  }

  // ------------------------------------------------------------------ effects

  #run(effects: readonly Effect[]): void {
    if (effects.length === 0) return
    this.#performing++
    try {
      interpretEffects(this.#host, effects)
    } catch (error) {
      this.#fail(error, { operation: 'engine' })
    } finally {
      this.#performing--
    }
    if (this.#performing > 0) return
    // Each close is a batch of its own, which may close another slow reader: fed in turn.
    for (let next = this.#closedMidBatch.shift(); next; next = this.#closedMidBatch.shift()) {
      this.#tellEngineClosed(next.connection, next.code, next.reason)
    }
  }

  /** Cluster fan-out over the broker (see `cluster-link.ts`). */
  #createBridge(broker: Broker): ClusterBridge {
    const { bridge, link } = linkBroker(broker, {
      resolve: (resolution) => {
        if (this.#state === 'closed') return
        this.#run(this.#engine.resolve(resolution, Date.now()))
        this.#scheduleFlush()
      },
      awarenessEntries: (documentId) => this.#engine.awarenessEntries(documentId),
      documentRegisters: (documentId) => this.#engine.documentSnapshot(documentId)?.registers,
      revoke: (target) => {
        this.#run(this.#engine.revoke(target, Date.now()))
        this.#scheduleFlush()
      },
      deleted: (documentId) => {
        if (this.#state === 'closed') return
        this.#run(this.#engine.resolve({ kind: 'remote-deleted', documentId }, Date.now()))
        this.#scheduleFlush()
      },
      onError: (error) => this.#fail(error, { operation: 'broker' }),
    })
    const started: Promise<void> = bridge.start().finally(() => this.#inFlight.delete(started))
    this.#inFlight.add(started)
    this.#cluster = link
    return bridge
  }

  #createHost(): EffectHost {
    const { store, door, persist } = this.#options
    const backoff = new PersistBackoff(persist)
    // At shutdown the remaining rounds are bounded: no waiting between them.
    const persistBackoff = {
      delayMs: () => (this.#state === 'running' ? backoff.delayMs() : 0),
      succeeded: () => backoff.succeeded(),
      failed: () => backoff.failed(),
    }
    const onError = (error: Error, context: ErrorContext): void => this.#fail(error, context)
    const persists = new PersistQueue({
      save: (effect) =>
        persistTask(
          store,
          effect,
          persist,
          onError,
          (seconds) => this.#metrics.persistLatency.observe(seconds),
          persistBackoff,
        ),
      // Called as a method: a bare `queueMicrotask` would get the hooks as `this` (workerd refuses it).
      soon: (task) => queueMicrotask(task),
      later: endOfTurn,
      after: (ms, task) => void delay(ms).then(task),
      now: () => performance.now(),
    })
    return {
      engine: this.#engine,
      metrics: this.#metrics,
      cluster: this.#cluster ?? SINGLE_NODE,
      connection: (id) => this.#connections.get(id),
      closeConnection: (connection, code, reason) => this.#closeConnection(connection, code, reason),
      track: (task) => this.#track(task),
      authenticate: (effect) => {
        const request = this.#connections.get(effect.conn)?.request ?? {}
        return authenticateTask(door.verifyCredentials, effect, request, onError)
      },
      load: (effect) => loadTask(store, effect.documentId, onError, this.#initialFields(effect)),
      persist: (effect) => persists.persist(effect),
      delete: (effect) => deleteTask(store, effect.documentId, onError),
      reply: (effect) => this.documents.settle(effect),
      emit: (event) => this.#emitEngineEvent(event),
      fail: (error) => this.#fail(error, { operation: 'engine' }),
    }
  }

  /** `onLoadDocument` for this load, its answer checked (a bad one fails the load, loudly). */
  #initialFields(effect: LoadEffect): (() => Promise<Record<string, JsonValue> | undefined>) | undefined {
    const hook = this.#options.onLoadDocument
    if (!hook) return undefined
    const context = effect.conn === undefined ? undefined : this.#connections.get(effect.conn)?.context
    return async () => {
      const fields = await hook({ documentId: effect.documentId, context })
      if (fields === undefined || fields === null) return undefined
      if (!isJsonObject(fields) || !isJsonValue(fields)) {
        throw new TypeError(
          `onLoadDocument(${effect.documentId}) must return an object of JSON values or nothing`,
        )
      }
      return fields
    }
  }

  /** Resolutions may land in any later turn; each is followed by a flush like a frame would be. */
  #track(task: Promise<Resolution>): void {
    const settled: Promise<void> = task
      .then(
        (resolution) => {
          if (this.#state === 'closed') return
          this.#run(this.#engine.resolve(resolution, Date.now()))
          this.#scheduleFlush()
        },
        (error: unknown) => this.#fail(error, { operation: 'resolve' }),
      )
      .finally(() => this.#inFlight.delete(settled))
    this.#inFlight.add(settled)
  }

  #emitEngineEvent(event: EngineEvent): void {
    switch (event.type) {
      case 'protocol-error':
        this.#metrics.errors.inc(1, event.code)
        // INTERNAL is an engine bug caught at its boundary; the rest are the clients' mistakes.
        if (event.code === 'INTERNAL') this.logger.error({ message: event.message }, 'engine error')
        else
          this.logger.debug(
            { connectionId: event.conn, code: event.code, documentId: event.documentId },
            event.message,
          )
        break
      case 'authenticated': {
        const connection = this.#connections.get(event.conn)
        if (connection) connection.userId = event.principal.userId
        break
      }
      case 'document-change':
        this.#lastModified.set(event.documentId, Date.now())
        break
      case 'document-evicted':
        this.#lastModified.delete(event.documentId)
        break
      case 'validator-fault':
        this.#fail(new Error(`validate: ${event.message}`), {
          operation: 'validate',
          documentId: event.documentId,
        })
        return
      case 'document-committed':
        // Every write is committed: build its payload only for someone who listens (webhooks).
        if (this.listenerCount('document-committed') === 0) return
        break
    }
    const published = toPublicEvent(event, (id) => this.#connections.get(id)?.context)
    if (published) this.#safeEmit(published.name, published.payload as never)
  }

  /** Every runtime failure passes here once: a metric, a log line, and the `error` event. */
  #fail(error: unknown, context: ErrorContext): void {
    const err = toError(error)
    this.#metrics.errors.inc(1, `${context.operation}_error`)
    this.logger.error({ err, ...context }, `${context.operation} failed`)
    try {
      this.emit('error', err, context)
    } catch {
      // An `error` listener that throws has nowhere left to report to (it was logged above).
    }
  }

  /** A throwing listener must not break the effect loop; it is logged and reported as `error`. */
  #safeEmit<E extends keyof SyncServerEvents>(event: E, ...args: Parameters<SyncServerEvents[E]>): void {
    try {
      ;(this.emit as (name: E, ...rest: Parameters<SyncServerEvents[E]>) => boolean).call(
        this,
        event,
        ...args,
      )
    } catch (error) {
      this.#fail(error, { operation: 'listener' })
    }
  }

  // ------------------------------------------------------------------ shutdown

  async #shutdown(): Promise<void> {
    this.#state = 'closing'
    for (const timer of this.#timers) timer.stop()
    for (let round = 0; round < SHUTDOWN_ROUNDS; round++) {
      this.#run(this.#engine.flush(Date.now()))
      if (this.#inFlight.size === 0) break
      await Promise.allSettled([...this.#inFlight])
    }
    for (const connection of [...this.#connections.values()]) {
      this.#closeConnection(connection, 1001, 'Server shutdown')
    }
    this.#state = 'closed'
    this.documents.close()
    try {
      await this.#bridge?.close()
      await this.#options.broker?.close()
    } catch (error) {
      this.#fail(error, { operation: 'broker-close' })
    }
    try {
      await this.#options.store.close?.()
    } catch (error) {
      this.#fail(error, { operation: 'store-close' })
    }
  }

  // ------------------------------------------------------------------ http

  #httpSource(): HttpSource {
    return {
      exposeDocumentIds: this.#options.exposeDocumentIds,
      metricsToken: this.#options.metricsToken,
      health: (includeDocuments) =>
        healthReport(
          this.#connections,
          this.#engine,
          this.#lastModified,
          this.#uptimeSeconds(),
          includeDocuments,
        ),
      readiness: () => checkReadiness(this.#state === 'running', this.#options.store, this.#options.broker),
      metricsText: () => this.#metrics.render(),
      staticFiles: this.#options.staticFiles,
      rest: this.#rest,
      inspector: this.#inspector,
    }
  }

  /** What `/inspector/api` reads and does (`http.inspector`). */
  #inspectorSource(): InspectorSource {
    const { engine, door } = this.#options
    const data = createInspectorData({
      nodeId: this.nodeId,
      engine: this.#engine,
      store: this.#options.store,
      documents: this.documents,
      stats: () => this.stats(),
      persistLatency: () => ({
        count: this.#metrics.persistLatency.count,
        seconds: this.#metrics.persistLatency.sum,
      }),
      evict: (documentId) => {
        const blocker = this.#engine.evictionBlocker(documentId)
        if (blocker === undefined) this.#run(this.#engine.evict(documentId, Date.now()))
        return blocker
      },
      disconnect: (connectionId) => {
        const connection = this.#connections.get(connectionId)
        if (!connection) return false
        this.#closeConnection(connection, 1008, 'Disconnected by an operator')
        return true
      },
      revoke: (userId) => this.revoke({ userId }),
      loadFailed: (error, documentId) => this.#fail(error, { operation: 'load', documentId }),
    })
    const anonymousPermissions = engine.anonymousPermissions ?? ANONYMOUS_PERMISSIONS
    return {
      openToAnonymous: openToAnonymous(engine.anonymous === true, anonymousPermissions),
      verifyCredentials: door.verifyCredentials,
      data,
    }
  }

  #uptimeSeconds(): number {
    return Math.floor((Date.now() - this.#startedAt) / 1000)
  }
}
