/**
 * Webhooks on an embedded server: docs/webhooks.md shows this file, and
 * test/integration/webhooks-docs.test.ts runs it against a receiver that verifies the signatures.
 */
// In an application: `from 'synckit-engine'` and `from 'synckit-engine/webhooks'`.
import type { SyncServer } from '../src/server/index.js'
import { attachWebhooks, registerWebhookMetrics, type WebhookDispatcher } from '../src/webhooks/index.js'

export function sendWebhooks(sync: SyncServer, url: string, secret: string): WebhookDispatcher {
  const webhooks = attachWebhooks(sync, {
    endpoints: [
      {
        url, // e.g. 'https://search.example.com/hooks/synckit'
        events: ['document.changed', 'document.deleted'], // the default
        secret, // whsec_…; checked here, at startup
      },
    ],
  })
  // Their counters on the server's GET /metrics (synckit_webhook_*).
  registerWebhookMetrics(sync, () => webhooks.stats())
  return webhooks
}

/** At shutdown: the server first (its last changes reach the webhooks), then the webhooks. */
export async function shutdown(sync: SyncServer, webhooks: WebhookDispatcher): Promise<void> {
  await sync.close()
  await webhooks.close() // delivers what is queued, for up to closeTimeoutMs (5 s)
}
