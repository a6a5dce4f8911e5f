/**
 * `synckit-engine/webhooks`: signed webhooks (Standard Webhooks) for committed changes, deleted
 * documents and presence, POSTed to your receivers with retries, coalescing and bounded queues.
 *
 *   const webhooks = attachWebhooks(sync, { endpoints: [{ url, secret }] })
 *   registerWebhookMetrics(sync, () => webhooks.stats())
 *
 * The standalone server reads `SYNCKIT_WEBHOOK_URL` / `_SECRET` / `_EVENTS` (`webhooksFromEnv`).
 * Runtime-neutral: it needs `fetch`, timers and Web Crypto only. See docs/webhooks.md.
 *
 * @packageDocumentation
 */
export {
  DEFAULT_WEBHOOK_EVENTS,
  WEBHOOK_EVENT_TYPES,
  WebhookConfigError,
  type WebhookEndpoint,
  type WebhookEventType,
  webhooksFromEnv,
} from './config.js'
export {
  attachWebhooks,
  createWebhookDispatcher,
  type WebhookDispatcher,
  type WebhookEventSource,
  type WebhookOptions,
  type WebhookStats,
} from './dispatcher.js'
export type { EndpointStats, WebhookLogger } from './endpoint-queue.js'
export { registerWebhookMetrics, type WebhookMetricsTarget } from './metrics.js'
export type {
  DocumentChange,
  DocumentChangedData,
  DocumentChangedMessage,
  DocumentDeletedData,
  DocumentDeletedMessage,
  PresenceChangedData,
  PresenceChangedMessage,
  WebhookBody,
  WebhookMessage,
} from './payload.js'
