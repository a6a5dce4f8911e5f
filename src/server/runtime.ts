import { EventEmitter } from 'eventemitter3'
import type { ClusterBridge } from '../cluster/bridge.js'
import type { Broker } from '../cluster/broker.js'
import { SyncEngine } from '../engine/index.js'
import type { Effect, EngineEvent, Resolution, RevokeTarget } from '../engine/types.js'
import { resolveClientIp } from './client-ip.js'
import { linkBroker } from './cluster-link.js'
import { connectionInfo, HeartbeatSweep, IpCounter, REFUSED, ServerConnection } from './connection.js'
import type { ResolvedServerOptions } from './create-sync-server.js'
import { authenticateTask, loadTask, PersistBackoff, persistTask } from './effect-io.js'
import {
  type ClusterLink,
  type EffectHost,
  interpretEffects,
  SLOW_CLIENT_CODE,
  SLOW_CLIENT_REASON,
} from './effects.js'
import { type ErrorContext, type SyncServerEvents, safeEmit, toError, toPublicEvent } from './events.js'
import { type HttpSource, handleHttpRequest, withSecurityHeaders } from './http.js'
import type { ConnectionHandle, SyncSocket, UpgradeRequest } from './options.js'
import { PersistQueue } from './persist-queue.js'
import { checkReadiness } from './readiness.js'
import { healthReport, queuedTotals, serverStats } from './reports.js'
import { delay, endOfTurn, every, type RepeatingTimer } from './scheduler.js'
import { ServerMetrics } from './server-metrics.js'
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
  readonly #options: ResolvedServerOptions
  readonly #engine: SyncEngine
  readonly #metrics: ServerMetrics
  readonly #host: EffectHost
  readonly #connections = new Map<string, ServerConnection>()
  readonly #perIp = new IpCounter()
  readonly #inFlight = new Set<Promise<void>>()
  /** Last local or remote change per in-memory document (for `/health` when ids are exposed). */
  readonly #lastModified = new Map<string, number>()
  readonly #startedAt = Date.now()
  readonly #timers: RepeatingTimer[]
  readonly #sweep = new HeartbeatSweep()
  #nextConnection = 1
  #flushScheduled = false
  #state: State = 'running'
  #closed: Promise<void> | undefined
  readonly #bridge: ClusterBridge | undefined
  #cluster: ClusterLink | undefined

  constructor(options: ResolvedServerOptions) {
    super()
    this.#options = options
    this.nodeId = options.nodeId
    this.limits = Object.freeze({ ...options.limits })
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
    this.#timers = [
      every(this.limits.tickIntervalMs, () => this.#tick()),
      every(this.limits.heartbeatIntervalMs, () => this.#heartbeat()),
    ]
  }

  get closing(): boolean {
    return this.#state !== 'running'
  }

  handleConnection(socket: SyncSocket, request: UpgradeRequest = {}): ConnectionHandle {
    const ip = resolveClientIp(request, this.#options.trustProxy)
    if (this.#state !== 'running') return this.#refuse(socket, ip, 1001, 'Server shutdown')
    if (ip !== undefined && this.#perIp.count(ip) >= this.limits.maxConnectionsPerIp) {
      return this.#refuse(socket, ip, 1008, 'Too many connections from your IP')
    }
    if (this.#connections.size >= this.limits.maxConnections) {
      return this.#refuse(socket, ip, 1008, 'Server at maximum capacity')
    }
    const now = Date.now()
    const id = `conn-${this.#nextConnection++}`
    const connection = new ServerConnection(id, socket, ip, request, this.limits, now)
    this.#connections.set(id, connection)
    if (ip !== undefined) this.#perIp.add(ip)
    this.#metrics.connectionsTotal.inc()
    this.#safeEmit('connection', { connectionId: id, ip })
    this.#run(
      this.#engine.open(id, now, connectionInfo(ip, request, this.#options.authenticate !== undefined)),
    )
    return {
      id,
      receive: (frame) => this.#receive(connection, frame),
      closed: () => this.#drop(connection),
      pong: () => {
        connection.lastSeen = Date.now()
      },
      drained: () => this.#drain(connection),
    }
  }

  async fetch(request: Request): Promise<Response> {
    const auth = this.#options.authRoutes ? await this.#options.authRoutes(request) : undefined
    if (auth) return withSecurityHeaders(auth)
    return handleHttpRequest(request, this.#httpSource())
  }

  metrics(): string {
    return this.#metrics.render()
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
    if (connection.ip !== undefined) this.#perIp.remove(connection.ip)
    this.#run(this.#engine.close(connection.id, Date.now()))
    this.#scheduleFlush()
    this.#safeEmit('disconnect', {
      connectionId: connection.id,
      ip: connection.ip,
      ...(code !== undefined ? { code } : {}),
      ...(reason !== undefined ? { reason } : {}),
    })
  }

  #closeConnection(connection: ServerConnection, code: number, reason: string): void {
    if (connection.closed) return
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

  #refuse(socket: SyncSocket, ip: string | undefined, code: number, reason: string): ConnectionHandle {
    this.#metrics.connectionsRejected.inc(1, code === 1001 ? 'shutdown' : reason)
    try {
      socket.close(code, reason)
    } catch {
      // The socket is already gone.
    }
    this.#safeEmit('connection-rejected', { ip, code, reason })
    return REFUSED
  }

  // ------------------------------------------------------------------ timers

  #tick(): void {
    this.#run(this.#engine.tick(Date.now()))
    for (const connection of this.#connections.values()) {
      if (connection.outbound.pressured) this.#drain(connection)
    }
    this.#scheduleFlush()
  }

  /** Protocol-level liveness (see `HeartbeatSweep`), a chunk per I/O turn. */
  #heartbeat(): void {
    if (this.#sweep.running) return
    this.#sweep.start(this.#connections.values())
    const step = (): void => {
      if (this.#state !== 'running') return
      const more = this.#sweep.step(Date.now(), (connection) =>
        this.#drop(connection, 1001, 'Heartbeat timeout'),
      )
      if (more) endOfTurn(step)
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
    try {
      interpretEffects(this.#host, effects)
    } catch (error) {
      this.#fail(error, { operation: 'engine' })
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
      onError: (error) => this.#fail(error, { operation: 'broker' }),
    })
    const started: Promise<void> = bridge.start().finally(() => this.#inFlight.delete(started))
    this.#inFlight.add(started)
    this.#cluster = link
    return bridge
  }

  #createHost(): EffectHost {
    const { store, authenticate, persist } = this.#options
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
      soon: queueMicrotask,
      later: endOfTurn,
      after: (ms, task) => void delay(ms).then(task),
      now: () => performance.now(),
    })
    return {
      engine: this.#engine,
      metrics: this.#metrics,
      cluster: this.#cluster ?? this.#options.cluster,
      connection: (id) => this.#connections.get(id),
      closeConnection: (connection, code, reason) => this.#closeConnection(connection, code, reason),
      track: (task) => this.#track(task),
      authenticate: (effect) => {
        const request = this.#connections.get(effect.conn)?.request ?? {}
        return authenticateTask(authenticate, effect, request, onError)
      },
      load: (effect) => loadTask(store, effect.documentId, onError),
      persist: (effect) => persists.persist(effect),
      emit: (event) => this.#emitEngineEvent(event),
      fail: (error) => this.#fail(error, { operation: 'engine' }),
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
      case 'document-loaded':
        this.#host.cluster.documentLoaded?.(event.documentId)
        break
    }
    const { name, payload } = toPublicEvent(event)
    this.#safeEmit(name, payload as never)
  }

  #fail(error: unknown, context: ErrorContext): void {
    this.#metrics.errors.inc(1, `${context.operation}_error`)
    this.#safeEmit('error', toError(error), context)
  }

  /** A throwing listener must not break the effect loop; it is reported as an `error` event. */
  #safeEmit<E extends keyof SyncServerEvents>(event: E, ...args: Parameters<SyncServerEvents[E]>): void {
    safeEmit(this, event, ...args)
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
    }
  }

  #uptimeSeconds(): number {
    return Math.floor((Date.now() - this.#startedAt) / 1000)
  }
}
