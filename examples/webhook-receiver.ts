import { createServer, type Server } from 'node:http'
import { Webhook } from 'standardwebhooks'

export interface SyncEvent {
  type: 'document.changed' | 'document.deleted' | 'presence.changed'
  timestamp: string
  data: { documentId: string } & Record<string, unknown>
}

const MAX_BODY_BYTES = 1024 * 1024
const REMEMBERED_IDS = 10_000

/**
 * A receiver for synckit-engine webhooks. It verifies the signature on the raw body (before any
 * JSON parsing), answers 2xx only once the event is handled, and skips a message id it has already
 * handled: delivery is at-least-once, so a retry can bring the same message again.
 */
export function createWebhookReceiver(secret: string, handle: (event: SyncEvent) => Promise<void>): Server {
  const verifier = new Webhook(secret)
  const handled = new Set<string>()
  return createServer((req, res) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) req.destroy()
      else chunks.push(chunk)
    })
    req.on('end', async () => {
      const id = String(req.headers['webhook-id'])
      let event: SyncEvent
      try {
        event = verifier.verify(Buffer.concat(chunks), {
          'webhook-id': id,
          'webhook-timestamp': String(req.headers['webhook-timestamp']),
          'webhook-signature': String(req.headers['webhook-signature']),
        }) as SyncEvent
      } catch {
        res.writeHead(401).end() // not from our server, altered, or older than 5 minutes
        return
      }
      try {
        if (!handled.has(id)) {
          await handle(event)
          handled.add(id)
          if (handled.size > REMEMBERED_IDS) handled.delete(handled.values().next().value as string)
        }
        res.writeHead(204).end()
      } catch {
        res.writeHead(500).end() // the server retries with backoff
      }
    })
  })
}
