import { resolveLimits } from '../engine/index.js'
import type { EngineLimits, EngineOptions } from '../engine/types.js'
import type { PersistPolicy } from './effect-io.js'
import { type ClusterLink, SINGLE_NODE } from './effects.js'
import { MemoryStore } from './memory-store.js'
import type { AuthenticateHook, DocumentStore, SyncServerOptions } from './options.js'
import { SyncServerRuntime } from './runtime.js'
import type { RuntimeLimits, SyncServer } from './types.js'

/** Everything the runtime needs, defaults applied and validated once. */
export interface ResolvedServerOptions {
  nodeId: string
  store: DocumentStore
  authenticate: AuthenticateHook | undefined
  engine: EngineOptions
  limits: RuntimeLimits
  trustProxy: boolean
  exposeDocumentIds: boolean
  persist: PersistPolicy
  /** The Broker seam; a single node by default. */
  cluster: ClusterLink
}

/**
 * Creates the sync runtime: an engine, a store (in-memory by default), timers, and the effect
 * interpreter. Attach a transport (`synckit-engine/ws`, `synckit-engine/node`, or your own through
 * `handleConnection`) to serve clients.
 */
export function createSyncServer(options: SyncServerOptions = {}): SyncServer {
  return new SyncServerRuntime(resolveServerOptions(options))
}

export function resolveServerOptions(options: SyncServerOptions): ResolvedServerOptions {
  const nodeId = options.nodeId ?? `node-${randomId().slice(0, 12)}`
  const engineLimits: Partial<EngineLimits> = { ...options.limits }
  if (options.maxMessagesPerMinute !== undefined && options.limits?.maxMessagesPerMinute === undefined) {
    engineLimits.maxMessagesPerMinute = positive('maxMessagesPerMinute', options.maxMessagesPerMinute)
  }
  const resolvedEngineLimits = resolveLimits(engineLimits)
  const idPrefix = `${Date.now().toString(36)}${randomId().slice(0, 4)}`
  let idCounter = 0
  const engine: EngineOptions = {
    nodeId,
    anonymous: options.auth?.required === false,
    durableAcks: options.durableAcks ?? true,
    resendFieldsOnSubscribe: options.resendFieldsOnSubscribe ?? true,
    limits: resolvedEngineLimits,
    newId: () => `${idPrefix}-${(++idCounter).toString(36)}`,
  }
  if (options.auth?.anonymousPermissions) engine.anonymousPermissions = options.auth.anonymousPermissions
  if (options.auth?.authorize) engine.authorize = options.auth.authorize
  const highWaterMark = positive(
    'backpressure.highWaterMark',
    options.backpressure?.highWaterMark ?? 1_048_576,
  )
  const hardLimit = positive('backpressure.hardLimit', options.backpressure?.hardLimit ?? 8_388_608)
  if (hardLimit < highWaterMark) throw new RangeError('backpressure.hardLimit must be >= highWaterMark')
  return {
    nodeId,
    store: options.store ?? new MemoryStore(),
    authenticate: options.auth?.authenticate,
    engine,
    limits: {
      maxFrameBytes: resolvedEngineLimits.maxFrameBytes,
      maxPayloadBytes: 2 * resolvedEngineLimits.maxFrameBytes,
      highWaterMark,
      hardLimit,
      maxQueuedMessages: positive(
        'backpressure.maxQueuedMessages',
        options.backpressure?.maxQueuedMessages ?? 10_000,
      ),
      maxConnections: positive('maxConnections', options.maxConnections ?? 10_000),
      maxConnectionsPerIp: positive('maxConnectionsPerIp', options.maxConnectionsPerIp ?? 50),
      heartbeatIntervalMs: positive('heartbeat.intervalMs', options.heartbeat?.intervalMs ?? 30_000),
      tickIntervalMs: positive('tickIntervalMs', options.tickIntervalMs ?? 1_000),
    },
    trustProxy: options.trustProxy ?? false,
    exposeDocumentIds: options.http?.exposeDocumentIds ?? false,
    persist: {
      attempts: Math.max(1, Math.floor(positive('persist.attempts', options.persist?.attempts ?? 3))),
      retryDelayMs: positive('persist.retryDelayMs', options.persist?.retryDelayMs ?? 100),
    },
    cluster: SINGLE_NODE,
  }
}

function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`Invalid option ${name}: ${String(value)} (expected a positive number)`)
  }
  return value
}

function randomId(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto
  if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID().replace(/-/g, '')
  return Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2)
}
