import { CollectedCounter, Counter, Gauge, Histogram, MetricsRegistry } from './prometheus.js'

/** What the gauges read at scrape time. */
export interface GaugeSource {
  connections(): number
  documents(): number
  subscriptions(): number
  awarenessClients(): number
  queuedMessages(): number
  pendingPersistBatches(): number
  uptimeSeconds(): number
  /** The engine's own inbound counters (it decodes every frame, so it knows the types). */
  inbound(): { messages: Readonly<Record<string, number>>; bytes: number }
}

/** Every metric the runtime exports (`GET /metrics`). */
export class ServerMetrics {
  readonly registry = new MetricsRegistry()
  readonly connectionsTotal = this.#counter('synckit_connections_total', 'Connections accepted.')
  readonly connectionsRejected = this.#counter(
    'synckit_connections_rejected_total',
    'Connections refused at accept.',
    'reason',
  )
  readonly messagesOut = this.#counter(
    'synckit_messages_out_total',
    'Messages sent, by type (one per recipient).',
    'type',
  )
  readonly bytesOut = this.#counter('synckit_bytes_out_total', 'Frame bytes handed to sockets.')
  readonly coalesced = this.#counter(
    'synckit_backpressure_coalesced_total',
    'Queued field echoes replaced by a newer one for a slow connection.',
  )
  readonly slowClosed = this.#counter(
    'synckit_backpressure_closed_total',
    'Connections closed for not keeping up (1013).',
  )
  readonly errors = this.#counter('synckit_errors_total', 'Errors, by code.', 'code')
  readonly fanout = this.registry.register(
    new Histogram(
      'synckit_broadcast_fanout',
      'Recipients per sent message.',
      [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000],
    ),
  )
  readonly persistLatency = this.registry.register(
    new Histogram(
      'synckit_persist_latency_seconds',
      'Store save latency per persist batch.',
      [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ),
  )

  constructor(source: GaugeSource) {
    const gauges: [string, string, () => number][] = [
      ['synckit_connections', 'Open connections.', () => source.connections()],
      ['synckit_documents', 'Documents in memory.', () => source.documents()],
      ['synckit_subscriptions', 'Document subscriptions.', () => source.subscriptions()],
      ['synckit_awareness_clients', 'Awareness (presence) entries.', () => source.awarenessClients()],
      [
        'synckit_outbound_queued_messages',
        'Messages queued for slow connections.',
        () => source.queuedMessages(),
      ],
      [
        'synckit_pending_persist_batches',
        'Persist batches not yet durable.',
        () => source.pendingPersistBatches(),
      ],
      ['synckit_uptime_seconds', 'Seconds since the server started.', () => source.uptimeSeconds()],
    ]
    for (const [name, help, read] of gauges) this.registry.register(new Gauge(name, help, read))
    this.registry.register(
      new CollectedCounter(
        'synckit_messages_in_total',
        'Messages received, by type (`invalid` for undecodable frames).',
        () => source.inbound().messages,
        'type',
      ),
    )
    this.registry.register(
      new CollectedCounter('synckit_bytes_in_total', 'Frame bytes received.', () => source.inbound().bytes),
    )
  }

  render(): string {
    return this.registry.render()
  }

  #counter(name: string, help: string, label?: string): Counter {
    return this.registry.register(new Counter(name, help, label))
  }
}
