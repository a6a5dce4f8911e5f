/**
 * Cluster fan-out between synckit-engine nodes. A broker moves opaque UTF-8 text between nodes by
 * topic; what the text means is `messages.ts`' business, which topic is which is `topics.ts`'.
 *
 * Contract (checked by `src/testing/broker-conformance.ts` for every implementation):
 * - `subscribe` resolves once the subscription is live: a message published after that is
 *   delivered. That is what lets the runtime subscribe to a document's topic before loading it.
 * - One handler per topic per broker; subscribing again replaces the handler.
 * - Echo suppression: a broker never delivers its own messages to itself.
 * - Order is preserved per publisher per topic. Nothing else is promised (no cross-topic order,
 *   no delivery while disconnected: that gap is what `onReconnect` is for).
 */
export interface Broker {
  /** This node's identity; receivers see it as `fromNode`. Unique per process in a cluster. */
  readonly nodeId: string
  /**
   * Rejects quickly (`BrokerUnavailableError`) while the broker is down: the runtime keeps serving
   * local clients and resynchronises after `onReconnect`. Binary payloads must be UTF-8 text.
   */
  publish(topic: string, message: Uint8Array | string): Promise<void>
  /**
   * Registers `handler` and resolves once the subscription is live. While the broker is down it
   * rejects with `BrokerUnavailableError`, but the subscription stays registered and is
   * established on reconnect (before `onReconnect` listeners run).
   */
  subscribe(topic: string, handler: (message: string, fromNode: string) => void): Promise<void>
  /** Stops delivery to this node's handler at once; never rejects for connectivity reasons. */
  unsubscribe(topic: string): Promise<void>
  /**
   * Fired after a connection loss once subscriptions are restored and publishing works again, so
   * the runtime can resynchronise the documents it holds (messages may have been missed either
   * way). Returns a function removing the listener.
   */
  onReconnect(listener: () => void): () => void
  /** True when the broker can deliver right now (bounded; never hangs). */
  health(): Promise<boolean>
  /** Idempotent. Afterwards `publish`/`subscribe` reject with `BrokerClosedError`. */
  close(): Promise<void>
}

/** Receives a message published on a topic, with the node that sent it. */
export type BrokerHandler = (message: string, fromNode: string) => void

/** The broker cannot reach its backend right now. */
export class BrokerUnavailableError extends Error {
  readonly code = 'BROKER_UNAVAILABLE'
  constructor(message = 'Cluster broker unavailable', options?: ErrorOptions) {
    super(message, options)
    this.name = 'BrokerUnavailableError'
  }
}

/** The broker was closed. */
export class BrokerClosedError extends Error {
  readonly code = 'BROKER_CLOSED'
  constructor(message = 'Cluster broker closed') {
    super(message)
    this.name = 'BrokerClosedError'
  }
}

const decoder = new TextDecoder()

/** Brokers carry text: bytes are decoded as UTF-8 (malformed sequences become U+FFFD). */
export function messageText(message: Uint8Array | string): string {
  return typeof message === 'string' ? message : decoder.decode(message)
}

/** Single node: nothing to fan out to. Publishing succeeds and goes nowhere; health is true. */
export class NoopBroker implements Broker {
  readonly nodeId: string
  #closed = false

  constructor(nodeId = 'single') {
    this.nodeId = nodeId
  }

  async publish(_topic: string, _message: Uint8Array | string): Promise<void> {
    if (this.#closed) throw new BrokerClosedError()
  }

  async subscribe(_topic: string, _handler: BrokerHandler): Promise<void> {
    if (this.#closed) throw new BrokerClosedError()
  }

  async unsubscribe(_topic: string): Promise<void> {}

  onReconnect(_listener: () => void): () => void {
    return () => {}
  }

  async health(): Promise<boolean> {
    return !this.#closed
  }

  async close(): Promise<void> {
    this.#closed = true
  }
}
