import {
  type Broker,
  BrokerClosedError,
  type BrokerHandler,
  BrokerUnavailableError,
  messageText,
} from './broker.js'

/** Options of `MemoryBrokerHub` (delays, failures, for tests). */
export interface MemoryBrokerHubOptions {
  /** A subscriber handler threw. Default `console.error`; delivery to others continues. */
  onError?: (error: unknown) => void
}

interface Delivery {
  topic: string
  message: string
  fromNode: string
}

/**
 * In-process cluster for tests: several brokers joined by a hub, with Redis-like semantics
 * (asynchronous FIFO delivery, echo suppression, nothing delivered to a disconnected node) and
 * fault injection (`disconnect` / `reconnect`) for outage tests of the runtime.
 */
export class MemoryBrokerHub {
  readonly #brokers = new Map<string, MemoryBroker>()
  readonly #onError: (error: unknown) => void
  #pending = 0
  #idleWaiters: Array<() => void> = []

  constructor(options: MemoryBrokerHubOptions = {}) {
    this.#onError = options.onError ?? ((error) => console.error('[synckit] broker handler failed', error))
  }

  /** A new node on the hub. Node ids are unique among open brokers (echo suppression relies on it). */
  createBroker(nodeId: string): MemoryBroker {
    if (this.#brokers.has(nodeId)) throw new Error(`Duplicate broker node id: ${nodeId}`)
    const broker = new MemoryBroker(nodeId, this)
    this.#brokers.set(nodeId, broker)
    return broker
  }

  /** Simulates losing the node's link: its publishes reject, nothing reaches it, health is false. */
  disconnect(nodeId: string): void {
    this.#broker(nodeId).setConnected(false)
  }

  /** Restores the link: subscriptions are kept, then `onReconnect` listeners run. */
  reconnect(nodeId: string): void {
    this.#broker(nodeId).setConnected(true)
  }

  /** Resolves once every message published so far has been handed to its handlers. */
  idle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  /** @internal */
  route(from: MemoryBroker, topic: string, message: string): void {
    for (const broker of this.#brokers.values()) {
      if (broker === from || !broker.accepts(topic)) continue
      this.#pending++
      broker.enqueue({ topic, message, fromNode: from.nodeId })
    }
  }

  /** @internal */
  delivered(): void {
    this.#pending--
    if (this.#pending > 0) return
    const waiters = this.#idleWaiters
    this.#idleWaiters = []
    for (const resolve of waiters) resolve()
  }

  /** @internal */
  report(error: unknown): void {
    this.#onError(error)
  }

  /** @internal */
  detach(broker: MemoryBroker): void {
    if (this.#brokers.get(broker.nodeId) === broker) this.#brokers.delete(broker.nodeId)
  }

  #broker(nodeId: string): MemoryBroker {
    const broker = this.#brokers.get(nodeId)
    if (!broker) throw new Error(`No broker with node id ${nodeId}`)
    return broker
  }
}

export class MemoryBroker implements Broker {
  readonly nodeId: string
  readonly #hub: MemoryBrokerHub
  readonly #handlers = new Map<string, BrokerHandler>()
  readonly #reconnectListeners = new Set<() => void>()
  readonly #inbox: Delivery[] = []
  #draining = false
  #connected = true
  #closed = false

  constructor(nodeId: string, hub: MemoryBrokerHub) {
    this.nodeId = nodeId
    this.#hub = hub
  }

  async publish(topic: string, message: Uint8Array | string): Promise<void> {
    this.#assertUsable()
    this.#hub.route(this, topic, messageText(message))
  }

  async subscribe(topic: string, handler: BrokerHandler): Promise<void> {
    if (this.#closed) throw new BrokerClosedError()
    // Registered even while disconnected: restored on reconnect, like the Redis broker.
    this.#handlers.set(topic, handler)
    if (!this.#connected) throw new BrokerUnavailableError()
  }

  async unsubscribe(topic: string): Promise<void> {
    this.#handlers.delete(topic)
  }

  onReconnect(listener: () => void): () => void {
    this.#reconnectListeners.add(listener)
    return () => this.#reconnectListeners.delete(listener)
  }

  async health(): Promise<boolean> {
    return this.#connected && !this.#closed
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#handlers.clear()
    this.#reconnectListeners.clear()
    this.#hub.detach(this)
  }

  /** @internal */
  accepts(topic: string): boolean {
    return this.#connected && !this.#closed && this.#handlers.has(topic)
  }

  /** @internal */
  enqueue(delivery: Delivery): void {
    this.#inbox.push(delivery)
    if (this.#draining) return
    this.#draining = true
    // A later macrotask, like a network: the publisher's own continuation runs first.
    setTimeout(() => this.#drain(), 0)
  }

  /** @internal */
  setConnected(connected: boolean): void {
    if (this.#closed || this.#connected === connected) return
    this.#connected = connected
    if (!connected) return
    queueMicrotask(() => {
      for (const listener of [...this.#reconnectListeners]) {
        try {
          listener()
        } catch (error) {
          this.#hub.report(error)
        }
      }
    })
  }

  #drain(): void {
    for (let delivery = this.#inbox.shift(); delivery; delivery = this.#inbox.shift()) {
      // Looked up at delivery time: `unsubscribe` and disconnection stop delivery at once.
      const handler = this.#connected && !this.#closed ? this.#handlers.get(delivery.topic) : undefined
      try {
        handler?.(delivery.message, delivery.fromNode)
      } catch (error) {
        this.#hub.report(error)
      }
      this.#hub.delivered()
    }
    this.#draining = false
  }

  #assertUsable(): void {
    if (this.#closed) throw new BrokerClosedError()
    if (!this.#connected) throw new BrokerUnavailableError()
  }
}
