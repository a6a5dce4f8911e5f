import { createAuthenticator, markReadsOnlyCredentials } from '../auth/authenticator.js'
import type { VerifyCredentialsHook } from '../auth/hooks.js'
import { type AuthRoutesHandler, createAuthRoutes } from '../auth/routes.js'
import { createTokenVerifier, type TokenVerifier } from '../auth/verifier.js'
import type { Broker } from '../cluster/broker.js'
import { resolveLimits } from '../engine/index.js'
import type { EngineLimits, EngineOptions } from '../engine/types.js'
import { isValidNodeId, NODE_ID_RULE } from '../storage/codec.js'
import { MemoryStore } from '../storage/memory-store.js'
import type { DocumentStore } from '../storage/store.js'
import { compileTrustProxy, type ProxyTrust, TRUST_PROXY_EXPECTED, TrustProxyError } from './client-ip.js'
import { type DoorOptions, originPolicy } from './door.js'
import { checkMetricsToken } from './http.js'
import type { PersistPolicy } from './io-tasks.js'
import { consoleLogger, type Logger, safeLogger } from './logger.js'
import type { AuthOptions, LoadDocumentHook, SyncServerOptions } from './options.js'
import { type ResolvedRestOptions, resolveRestOptions } from './rest/options.js'
import type { Timers } from './scheduler.js'
import type { StaticFiles } from './static-files.js'
import type { UpgradeRequest } from './transport.js'
import type { RuntimeLimits } from './types.js'

/** Everything the runtime needs, defaults applied and validated once. */
export interface ResolvedServerOptions {
  nodeId: string
  store: DocumentStore
  /** The host's logger (or the console one) behind `safeLogger`. */
  logger: Logger
  onLoadDocument: LoadDocumentHook | undefined
  /** The app's hook, the credential verifier and their time limit. */
  door: DoorOptions
  /** `allowedOrigins` as a check; undefined when every origin is allowed. */
  originAllowed: ((request: UpgradeRequest) => boolean) | undefined
  engine: EngineOptions
  limits: RuntimeLimits
  trustProxy: ProxyTrust
  exposeDocumentIds: boolean
  /** Bearer token of `/metrics` and the detailed `/health`; undefined = open. */
  metricsToken: string | undefined
  staticFiles: StaticFiles | undefined
  inspector: boolean
  persist: PersistPolicy
  /** Cluster fan-out; none (a single node) when undefined. */
  broker: Broker | undefined
  /** `/auth/*` routes when JWT verification is configured. */
  authRoutes: AuthRoutesHandler | undefined
  /** The REST API's settings; undefined when it is off. */
  rest: ResolvedRestOptions | undefined
  /**
   * Schedules the tick and the heartbeat; `setInterval` when absent. A host that must stay idle to
   * be evicted (a Durable Object) runs them only while it has work.
   */
  timers?: Timers
}

/** Defaults applied and every option validated, once, at `createSyncServer`. */
export function resolveServerOptions(options: SyncServerOptions): ResolvedServerOptions {
  const logger = safeLogger(loggerOption(options.logger))
  const nodeId = options.nodeId ?? `node-${randomId().slice(0, 12)}`
  // Node ids order stamps (byte order in SQL, code units in JS): ASCII keeps both the same.
  if (!isValidNodeId(nodeId)) {
    throw new RangeError(`Invalid option nodeId: ${JSON.stringify(nodeId)} (expected ${NODE_ID_RULE})`)
  }
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
    ...(options.testOnly ? { testOnly: { ...options.testOnly } } : {}),
    limits: resolvedEngineLimits,
    newId: () => `${idPrefix}-${(++idCounter).toString(36)}`,
  }
  if (options.auth?.anonymousPermissions) engine.anonymousPermissions = options.auth.anonymousPermissions
  if (options.auth?.authorize) engine.authorize = options.auth.authorize
  if (options.validate) engine.validate = options.validate
  const highWaterMark = positive(
    'backpressure.highWaterMark',
    options.backpressure?.highWaterMark ?? 1_048_576,
  )
  const hardLimit = positive('backpressure.hardLimit', options.backpressure?.hardLimit ?? 8_388_608)
  if (hardLimit < highWaterMark) throw new RangeError('backpressure.hardLimit must be >= highWaterMark')
  return {
    nodeId,
    store: options.store ?? new MemoryStore(),
    logger,
    onLoadDocument: hookOption('onLoadDocument', options.onLoadDocument as LoadDocumentHook | undefined),
    door: {
      authenticate: doorHook(options.auth),
      verifyCredentials: options.auth?.verifyCredentials ?? builtInAuthenticator(options.auth, logger),
      timeoutMs: resolvedEngineLimits.authTimeoutMs,
    },
    originAllowed: originPolicy(options.allowedOrigins),
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
      maxReplyBytes: positive(
        'backpressure.maxReplyBytes',
        options.backpressure?.maxReplyBytes ?? 2 * resolvedEngineLimits.maxDocumentBytes + hardLimit,
      ),
      maxConnections: positive('maxConnections', options.maxConnections ?? 10_000),
      maxConnectionsPerIp: positive('maxConnectionsPerIp', options.maxConnectionsPerIp ?? 50),
      heartbeatIntervalMs: positive('heartbeat.intervalMs', options.heartbeat?.intervalMs ?? 30_000),
      tickIntervalMs: positive('tickIntervalMs', options.tickIntervalMs ?? 1_000),
    },
    trustProxy: trustProxy(options.trustProxy),
    exposeDocumentIds: options.http?.exposeDocumentIds ?? false,
    metricsToken: metricsToken(options.http?.metricsToken),
    staticFiles: options.http?.staticFiles,
    inspector: booleanOption('http.inspector', options.http?.inspector),
    persist: {
      attempts: Math.max(1, Math.floor(positive('persist.attempts', options.persist?.attempts ?? 3))),
      retryDelayMs: positive('persist.retryDelayMs', options.persist?.retryDelayMs ?? 100),
      maxRetryDelayMs: positive('persist.maxRetryDelayMs', options.persist?.maxRetryDelayMs ?? 2000),
    },
    broker: options.broker,
    authRoutes: options.auth?.jwt ? authRoutes(options.auth) : undefined,
    rest: resolveRestOptions(options.rest),
  }
}

/**
 * `auth.authenticate` took `(credentials, request)` before it became the door hook; such a hook
 * now belongs in `auth.verifyCredentials`. Two declared parameters give it away.
 */
function doorHook(auth: AuthOptions | undefined): DoorOptions['authenticate'] {
  const hook = auth?.authenticate
  if (hook === undefined) return undefined
  if (typeof hook !== 'function') throw new TypeError('Invalid option auth.authenticate: expected a function')
  if (hook.length >= 2) {
    throw new TypeError(
      'auth.authenticate now takes one argument, the upgrade request ({ headers, cookies, url, ip }), ' +
        'and runs for every connection. A hook of (credentials, request) verifies tokens and API keys: ' +
        'pass it as auth.verifyCredentials instead (docs/security.md).',
    )
  }
  return hook as DoorOptions['authenticate']
}

/** JWT and/or API keys when configured; without either, credentials cannot be verified. */
function builtInAuthenticator(
  auth: AuthOptions | undefined,
  logger: Logger,
): VerifyCredentialsHook | undefined {
  if (!auth?.jwt && !auth?.apiKeys) return undefined
  // Its `onError` logs a code and a method, never the request.
  const hook = createAuthenticator({
    ...(auth.jwt ? { jwt: sharedVerifier(auth) } : {}),
    ...(auth.apiKeys ? { apiKeys: auth.apiKeys } : {}),
    // A refused credential is the client's business (debug); a key source that fails is ours.
    onError: (error, { method }) => {
      const unavailable = error.code === 'KEY_SOURCE_UNAVAILABLE' || error.code === 'CALLBACK_FAILED'
      const fields = { code: error.code, method, ...(unavailable ? { err: error } : {}) }
      if (unavailable) logger.warn(fields, 'credential check failed')
      else logger.debug(fields, 'credentials refused')
    },
  })
  return markReadsOnlyCredentials(hook)
}

function loggerOption(logger: Logger | undefined): Logger {
  if (logger === undefined) return consoleLogger()
  for (const method of ['debug', 'info', 'warn', 'error', 'child'] as const) {
    if (typeof logger[method] !== 'function') {
      throw new TypeError(`Invalid option logger: expected pino's interface (no ${method} method)`)
    }
  }
  return logger
}

function authRoutes(auth: AuthOptions): AuthRoutesHandler {
  return createAuthRoutes({
    verifier: sharedVerifier(auth),
    ...(auth.signing ? { signing: auth.signing } : {}),
    ...(auth.login ? { login: auth.login } : {}),
  })
}

/** One verifier per options object, so the authenticator and the routes share one JWKS cache. */
const verifiers = new WeakMap<AuthOptions, TokenVerifier>()
function sharedVerifier(auth: AuthOptions): TokenVerifier {
  let verifier = verifiers.get(auth)
  if (!verifier && auth.jwt) {
    verifier = createTokenVerifier(auth.jwt)
    verifiers.set(auth, verifier)
  }
  if (!verifier) throw new TypeError('auth.jwt is required for JWT verification')
  return verifier
}

function trustProxy(option: SyncServerOptions['trustProxy']): ProxyTrust {
  try {
    return compileTrustProxy(option)
  } catch (error) {
    if (!(error instanceof TrustProxyError)) throw error
    throw new RangeError(`Invalid option trustProxy: ${error.message} (${TRUST_PROXY_EXPECTED})`)
  }
}

function metricsToken(token: string | undefined): string | undefined {
  if (token === undefined) return undefined
  if (typeof token !== 'string') throw new TypeError('Invalid option http.metricsToken: expected a string')
  const problem = checkMetricsToken(token)
  if (problem) throw new RangeError(`Invalid option http.metricsToken: ${problem}`)
  return token
}

function hookOption<T>(name: string, hook: T | undefined): T | undefined {
  if (hook !== undefined && typeof hook !== 'function') {
    throw new TypeError(`Invalid option ${name}: expected a function`)
  }
  return hook
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

function booleanOption(name: string, value: unknown): boolean {
  if (value === undefined) return false
  if (typeof value !== 'boolean') throw new TypeError(`Invalid option ${name}: expected true or false`)
  return value
}
