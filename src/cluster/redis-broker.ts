import { Cluster, type ClusterNode, type ClusterOptions, Redis, type RedisOptions } from 'ioredis'
import {
  type Broker,
  BrokerClosedError,
  type BrokerHandler,
  BrokerUnavailableError,
  messageText,
} from './broker.js'

/** Options of `createRedisBroker`. */
export interface RedisBrokerOptions {
  /** This node's identity (unique per process in the cluster). */
  nodeId: string
  /** Channel prefix, so several deployments can share one Redis. Default `synckit:`. */
  prefix?: string
  /** `redis://` / `rediss://` URL. Default 127.0.0.1:6379. */
  url?: string
  /** Passed to ioredis (Sentinel: `sentinels` + `name`). The broker's resilience settings win. */
  redis?: RedisOptions
  /** Redis Cluster instead of a single server / Sentinel. */
  cluster?: { nodes: ClusterNode[]; options?: ClusterOptions }
  /** Reconnect delay: `initialMs * 2^n`, capped at `maxMs`, with jitter. Never gives up. */
  backoff?: { initialMs?: number; maxMs?: number }
  /** Bound of a publish (and subscribe) round trip before it rejects. Default 2000. */
  commandTimeoutMs?: number
  /** Bound of `health()`'s PING. Default 1000. */
  healthTimeoutMs?: number
  /** How long operations issued before the first connection wait for it. Default 2000. */
  startupTimeoutMs?: number
  /** Connection problems (once per outage), handler exceptions, duplicate node ids. Default console.error. */
  onError?: (error: Error) => void
}

type Client = Redis | Cluster
type Role = 'publisher' | 'subscriber'

const ENVELOPE_VERSION = 'sk1'
const SUBSCRIBE_CHUNK = 1000
const RESTORE_RETRY_MS = 1000

/**
 * Broker over Redis pub/sub: two connections (subscriber mode blocks the other commands).
 *
 * Envelope: `["sk1", nodeId, instanceId]\n<payload>`. The header is compact JSON (a newline inside
 * a node id is escaped), and the payload follows raw, so a 1 MB message is not JSON-escaped twice.
 * Echo suppression uses the per-process instance id; a message from another process with our node
 * id is delivered but reported, since duplicate node ids break stamp uniqueness.
 *
 * Outages: both connections run without an offline queue and with `maxRetriesPerRequest: 0`, so
 * commands reject at once instead of piling up while Redis is down; they reconnect forever with
 * capped backoff. Subscriptions are restored by the broker itself (not ioredis' `autoResubscribe`,
 * whose 'ready' fires before the resubscribe is acknowledged and which would revive topics dropped
 * during the outage); only then do `onReconnect` listeners run.
 */
export class RedisBroker implements Broker {
  readonly nodeId: string
  readonly prefix: string
  readonly #instance = globalThis.crypto.randomUUID()
  readonly #header: string
  readonly #publisher: Client
  readonly #subscriber: Client
  readonly #handlers = new Map<string, BrokerHandler>()
  readonly #reconnectListeners = new Set<() => void>()
  readonly #onError: (error: Error) => void
  readonly #healthTimeoutMs: number
  readonly #startupTimeoutMs: number
  readonly #everReady = { publisher: false, subscriber: false }
  readonly #waiters = new Set<(error?: Error) => void>()
  /** Something may have been missed since the last restore: resubscribe and tell listeners. */
  #lost = false
  #restoreRun = 0
  #outageReported = false
  #duplicateReported = false
  #closing: Promise<void> | undefined
  #restoreTimer: ReturnType<typeof setTimeout> | undefined

  constructor(options: RedisBrokerOptions) {
    if (!options.nodeId) throw new Error('RedisBroker needs a nodeId')
    this.nodeId = options.nodeId
    this.prefix = options.prefix ?? 'synckit:'
    this.#header = JSON.stringify([ENVELOPE_VERSION, this.nodeId, this.#instance])
    this.#onError = options.onError ?? ((error) => console.error('[synckit] redis broker:', error))
    this.#healthTimeoutMs = options.healthTimeoutMs ?? 1000
    this.#startupTimeoutMs = options.startupTimeoutMs ?? 2000
    this.#publisher = createClient(options, 'publisher')
    this.#subscriber = createClient(options, 'subscriber')
    this.#watch(this.#publisher, 'publisher')
    this.#watch(this.#subscriber, 'subscriber')
    this.#subscriber.on('message', (channel: string, raw: string) => this.#deliver(channel, raw))
  }

  async publish(topic: string, message: Uint8Array | string): Promise<void> {
    await this.#usable('publisher')
    try {
      await this.#publisher.publish(this.prefix + topic, `${this.#header}\n${messageText(message)}`)
    } catch (error) {
      throw new BrokerUnavailableError('Redis publish failed', { cause: error })
    }
  }

  async subscribe(topic: string, handler: BrokerHandler): Promise<void> {
    if (this.#closing) throw new BrokerClosedError()
    // Registered first: if Redis is down, the restore after reconnection establishes it.
    this.#handlers.set(topic, handler)
    await this.#usable('subscriber')
    // Unsubscribed (or replaced) while waiting for the first connection: nothing to do.
    if (this.#handlers.get(topic) !== handler) return
    try {
      await this.#subscriber.subscribe(this.prefix + topic)
    } catch (error) {
      this.#lost = true
      this.#scheduleRestore()
      throw new BrokerUnavailableError('Redis subscribe failed', { cause: error })
    }
  }

  async unsubscribe(topic: string): Promise<void> {
    if (!this.#handlers.delete(topic)) return
    // Down or closing: the connection's subscriptions are gone with it, and restore skips the topic.
    if (this.#closing || this.#subscriber.status !== 'ready') return
    await this.#subscriber.unsubscribe(this.prefix + topic).catch(() => {})
  }

  onReconnect(listener: () => void): () => void {
    this.#reconnectListeners.add(listener)
    return () => this.#reconnectListeners.delete(listener)
  }

  async health(): Promise<boolean> {
    if (this.#closing) return false
    if (!this.#bothReady()) return false
    const pings = Promise.all([this.#publisher.ping(), this.#subscriber.ping()]).then(
      () => true,
      () => false,
    )
    return withTimeout(pings, this.#healthTimeoutMs, false)
  }

  close(): Promise<void> {
    if (!this.#closing) {
      this.#handlers.clear()
      this.#reconnectListeners.clear()
      for (const wake of [...this.#waiters]) wake(new BrokerClosedError())
      clearTimeout(this.#restoreTimer)
      this.#closing = Promise.all([shutdown(this.#publisher), shutdown(this.#subscriber)]).then(() => {})
    }
    return this.#closing
  }

  /** Connection status of both clients, for diagnostics and readiness details. */
  status(): { publisher: string; subscriber: string } {
    return { publisher: this.#publisher.status, subscriber: this.#subscriber.status }
  }

  /** Ready now; or, before the first connection, wait for it (bounded); otherwise reject at once. */
  async #usable(role: Role): Promise<void> {
    if (this.#closing) throw new BrokerClosedError()
    const client = this.#client(role)
    if (client.status === 'ready') return
    if (this.#everReady[role]) {
      this.#lost = true
      throw new BrokerUnavailableError(`Redis ${role} connection is ${client.status}`)
    }
    const error = await new Promise<Error | undefined>((resolve) => {
      const timer = setTimeout(
        () => wake(new BrokerUnavailableError('Redis not reachable yet')),
        this.#startupTimeoutMs,
      )
      const onReady = () => wake()
      const wake = (failure?: Error) => {
        clearTimeout(timer)
        client.off('ready', onReady)
        this.#waiters.delete(wake)
        resolve(failure)
      }
      client.once('ready', onReady)
      this.#waiters.add(wake)
    })
    if (error) {
      // What this caller meant to do is lost: the first connection must trigger a resync.
      if (error instanceof BrokerUnavailableError) this.#lost = true
      throw error
    }
  }

  #client(role: Role): Client {
    return role === 'publisher' ? this.#publisher : this.#subscriber
  }

  #watch(client: Client, role: Role): void {
    client.on('ready', () => this.#ready(role))
    client.on('close', () => {
      if (!this.#everReady[role] || this.#closing) return
      this.#lost = true
      // A clean close (Redis stopped) comes without an error event, and a short outage may end
      // before any reconnect attempt fails: the lost connection itself is the report.
      this.#reportOutage(new BrokerUnavailableError(`Redis ${role} connection lost`))
    })
    client.on('error', (error: Error) => {
      if (!this.#closing) this.#reportOutage(error)
    })
  }

  /** ioredis emits one error per failed reconnect attempt: an outage is reported once, not every 100 ms. */
  #reportOutage(error: Error): void {
    if (this.#outageReported) return
    this.#outageReported = true
    this.#report(error)
  }

  #ready(role: Role): void {
    this.#everReady[role] = true
    if (this.#closing) return
    if (!this.#bothReady()) return
    this.#outageReported = false
    if (this.#lost) void this.#restore()
  }

  async #restore(): Promise<void> {
    const run = ++this.#restoreRun
    this.#lost = false
    const topics = [...this.#handlers.keys()]
    try {
      for (let i = 0; i < topics.length; i += SUBSCRIBE_CHUNK) {
        // Re-checked per chunk: a topic unsubscribed meanwhile must not be revived.
        const channels = topics
          .slice(i, i + SUBSCRIBE_CHUNK)
          .filter((topic) => this.#handlers.has(topic))
          .map((topic) => this.prefix + topic)
        if (channels.length > 0) await this.#subscriber.subscribe(...channels)
      }
    } catch (error) {
      // Lost again mid-restore: the next 'ready' retries (or the timer, if the link stayed up).
      this.#lost = true
      this.#report(asError(error))
      this.#scheduleRestore()
      return
    }
    if (run !== this.#restoreRun || this.#closing || this.#lost) return
    for (const listener of [...this.#reconnectListeners]) {
      try {
        listener()
      } catch (error) {
        this.#report(asError(error))
      }
    }
  }

  /**
   * A subscribe can time out on a connection that stays up (a stalled Redis): no 'ready' will
   * follow, so retry on a timer instead of leaving the topic silently unsubscribed.
   */
  #scheduleRestore(): void {
    if (this.#restoreTimer || this.#closing) return
    this.#restoreTimer = setTimeout(() => {
      this.#restoreTimer = undefined
      if (this.#lost && !this.#closing && this.#bothReady()) void this.#restore()
    }, RESTORE_RETRY_MS)
    this.#restoreTimer.unref?.()
  }

  #bothReady(): boolean {
    return this.#publisher.status === 'ready' && this.#subscriber.status === 'ready'
  }

  #deliver(channel: string, raw: string): void {
    if (!channel.startsWith(this.prefix)) return
    const handler = this.#handlers.get(channel.slice(this.prefix.length))
    if (!handler) return
    const envelope = openEnvelope(raw)
    if (!envelope || envelope.instance === this.#instance) return
    if (envelope.node === this.nodeId && !this.#duplicateReported) {
      this.#duplicateReported = true
      this.#report(
        new Error(`Another process publishes with this node id (${this.nodeId}); node ids must be unique`),
      )
    }
    try {
      handler(envelope.payload, envelope.node)
    } catch (error) {
      this.#report(asError(error))
    }
  }

  #report(error: Error): void {
    try {
      this.#onError(error)
    } catch {
      // A failing error hook must not break delivery.
    }
  }
}

/** A `Broker` over Redis pub/sub, for cluster fan-out. */
export function createRedisBroker(options: RedisBrokerOptions): RedisBroker {
  return new RedisBroker(options)
}

function createClient(options: RedisBrokerOptions, role: Role): Client {
  const initialMs = options.backoff?.initialMs ?? 100
  const maxMs = options.backoff?.maxMs ?? 3000
  // Never null: a broker that stops retrying would leave the node partitioned until restart.
  const backoff = (times: number): number => {
    const delay = Math.min(maxMs, initialMs * 2 ** Math.min(times - 1, 20))
    return Math.round(delay / 2 + (Math.random() * delay) / 2)
  }
  const resilience = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResubscribe: false,
    autoResendUnfulfilledCommands: false,
    commandTimeout: options.commandTimeoutMs ?? 2000,
    // CLIENT SETNAME refuses spaces and the like: keep the name to a safe alphabet.
    connectionName: `synckit-${role}-${options.nodeId}`.replace(/[^\w.:-]/g, '_'),
  }
  if (options.cluster) {
    const clusterOptions = options.cluster.options ?? {}
    return new Cluster(options.cluster.nodes, {
      ...clusterOptions,
      clusterRetryStrategy: clusterOptions.clusterRetryStrategy ?? backoff,
      enableOfflineQueue: false,
      redisOptions: { ...clusterOptions.redisOptions, ...resilience, autoResubscribe: true },
    })
  }
  const redisOptions: RedisOptions = {
    ...options.redis,
    ...resilience,
    retryStrategy: options.redis?.retryStrategy ?? backoff,
  }
  return options.url ? new Redis(options.url, redisOptions) : new Redis(redisOptions)
}

function openEnvelope(raw: string): { node: string; instance: string; payload: string } | undefined {
  const newline = raw.indexOf('\n')
  if (newline < 0) return undefined
  let header: unknown
  try {
    header = JSON.parse(raw.slice(0, newline))
  } catch {
    return undefined
  }
  if (!Array.isArray(header) || header.length !== 3 || header[0] !== ENVELOPE_VERSION) return undefined
  const [, node, instance] = header
  if (typeof node !== 'string' || typeof instance !== 'string') return undefined
  return { node, instance, payload: raw.slice(newline + 1) }
}

/** Quit politely (bounded), then drop the socket and stop reconnecting whatever happened. */
async function shutdown(client: Client): Promise<void> {
  if (client.status !== 'end') {
    await withTimeout(
      client.quit().then(
        () => undefined,
        () => undefined,
      ),
      1000,
      undefined,
    )
  }
  client.disconnect()
}

function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}
