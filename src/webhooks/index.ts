/** Signed webhooks (Standard Webhooks) for committed changes, deletions and presence. */
export {
  DEFAULT_WEBHOOK_EVENTS,
  type ResolvedWebhookEndpoint,
  resolveWebhookEndpoints,
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
export { registerWebhookMetrics } from './metrics.js'
export {
  changeFromEvent,
  type DocumentChange,
  type DocumentChangedData,
  type DocumentChangedMessage,
  type DocumentDeletedData,
  type DocumentDeletedMessage,
  type FieldChange,
  type PresenceChangedData,
  type PresenceChangedMessage,
  type WebhookBody,
  type WebhookMessage,
} from './payload.js'
