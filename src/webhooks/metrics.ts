import { CollectedCounter, Gauge, MetricsRegistry } from '../server/prometheus.js'
import type { SyncServer } from '../server/types.js'
import type { WebhookStats } from './dispatcher.js'

/** Where `registerWebhookMetrics` adds its metrics: a server handle. */
export type WebhookMetricsTarget = Pick<SyncServer, 'addMetrics'>

/**
 * Adds the webhook counters and gauges to the server's `GET /metrics`
 * (`registerWebhookMetrics(sync, () => webhooks.stats())`), read from `stats()` at every scrape so
 * they never drift. Register one dispatcher per server: the metric names are fixed.
 */
export function registerWebhookMetrics(target: WebhookMetricsTarget, stats: () => WebhookStats): void {
  const registry = new MetricsRegistry()
  const counters: [string, string, keyof WebhookStats][] = [
    ['synckit_webhook_delivered_total', 'Webhook messages a receiver accepted (2xx).', 'delivered'],
    ['synckit_webhook_retries_total', 'Webhook attempts that failed and were scheduled again.', 'retries'],
    ['synckit_webhook_failed_total', 'Webhook messages given up after their last attempt.', 'failed'],
    ['synckit_webhook_dropped_total', 'Webhook messages dropped because a queue was full.', 'dropped'],
    ['synckit_webhook_abandoned_total', 'Webhook messages still queued at shutdown.', 'abandoned'],
  ]
  for (const [name, help, key] of counters) {
    registry.register(new CollectedCounter(name, help, () => stats()[key] as number))
  }
  registry.register(new Gauge('synckit_webhook_queued', 'Webhook messages queued.', () => stats().queued))
  registry.register(
    new Gauge('synckit_webhook_queued_bytes', 'Webhook body bytes queued.', () => stats().queuedBytes),
  )
  target.addMetrics(() => registry.render())
}
