import type { JsonObject } from '../crdt/types.js'
import { utf8Length } from '../protocol/utf8.js'
import type { AwarenessChangeEvent, DocumentChangeEvent, DocumentDeletedEvent } from '../server/events.js'
import type { SyncServer } from '../server/types.js'
import { Coalescer } from './coalescer.js'
import { resolveWebhookEndpoints, type WebhookEndpoint } from './config.js'
import { EndpointQueue, type EndpointStats, type WebhookLogger } from './endpoint-queue.js'
import { changeFromEvent, type DocumentChange, type WebhookBody } from './payload.js'

/** Options of `attachWebhooks` and `createWebhookDispatcher`: the receivers and the delivery policy. */
export interface WebhookOptions {
  /** Receivers; each gets its own queue, so a slow one never holds back the others. */
  endpoints: readonly WebhookEndpoint[]
  /** At most one call per document (and event type) per interval (ms). Default 1000. */
  coalesceMs?: number
  /** Per-request timeout (ms). Default 10000. */
  timeoutMs?: number
  /** Attempts per message before it is given up (counted in `failed`). Default 12. */
  maxAttempts?: number
  /** First retry delay (ms), doubled per failure, with jitter. Default 1000. */
  retryBaseMs?: number
  /** Longest retry delay (ms), a receiver's `Retry-After` included. Default 60000. */
  retryMaxMs?: number
  /** Messages queued per endpoint at most; the oldest is dropped past it. Default 10000. */
  maxQueueSize?: number
  /** Body bytes queued per endpoint at most; the oldest is dropped past it. Default 16 MiB. */
  maxQueueBytes?: number
  /** How long `close()` keeps delivering what is queued (ms). Default 5000. */
  closeTimeoutMs?: number
  /** Where drops, give-ups and shutdown losses are reported. Default: `console.warn`. */
  logger?: WebhookLogger
  /** Default `globalThis.fetch`. */
  fetch?: typeof fetch
  /** Default `Date.now`. */
  now?: () => number
  /** Jitter source in [0, 1). Default `Math.random`. */
  random?: () => number
}

/** What `webhooks.stats()` reports (and `registerWebhookMetrics` exposes). */
export interface WebhookStats {
  /** Documents with changes waiting for their coalescing window to close. */
  pendingDocuments: number
  pendingBytes: number
  /** Totals over every endpoint. */
  queued: number
  queuedBytes: number
  delivered: number
  retries: number
  failed: number
  dropped: number
  abandoned: number
  endpoints: EndpointStats[]
}

/** The webhook pipeline: coalescing windows, then one bounded, retrying queue per endpoint. */
export interface WebhookDispatcher {
  /** A committed change (coalesced per document). */
  documentChanged(change: DocumentChange): void
  /** A document was deleted; a pending change of it is sent first. */
  documentDeleted(documentId: string, options?: { actor?: string }): void
  /** A presence entry changed (`null`: the client left); coalesced per document. */
  presenceChanged(documentId: string, clientId: string, state: JsonObject | null): void
  /** Counters and queue sizes, totals and per endpoint. */
  stats(): WebhookStats
  /**
   * Sends what is pending and queued for up to `closeTimeoutMs`, then stops: aborts the request
   * in flight, counts the rest as `abandoned`, clears every timer. Idempotent.
   */
  close(): Promise<void>
}

const consoleLogger: WebhookLogger = {
  warn: (fields, message) => console.warn(message, fields),
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!(value > 0) || !Number.isFinite(value))
    throw new RangeError(`webhooks: ${name} must be a positive number`)
  return value
}

function messageId(): string {
  return `msg_${globalThis.crypto.randomUUID().replaceAll('-', '')}`
}

/** The delivery pipeline without a server: tests and the server-side delete API feed it directly. */
export function createWebhookDispatcher(options: WebhookOptions): WebhookDispatcher {
  const endpoints = resolveWebhookEndpoints(options.endpoints)
  const now = options.now ?? Date.now
  const logger = options.logger ?? consoleLogger
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis)
  const maxQueueSize = positive('maxQueueSize', options.maxQueueSize, 10_000)
  const maxQueueBytes = positive('maxQueueBytes', options.maxQueueBytes, 16 * 1024 * 1024)
  const closeTimeoutMs = positive('closeTimeoutMs', options.closeTimeoutMs, 5000)
  const queues = endpoints.map(
    (endpoint) =>
      new EndpointQueue({
        endpoint,
        timeoutMs: positive('timeoutMs', options.timeoutMs, 10_000),
        maxAttempts: Math.max(1, Math.floor(positive('maxAttempts', options.maxAttempts, 12))),
        retry: {
          baseMs: positive('retryBaseMs', options.retryBaseMs, 1000),
          maxMs: positive('retryMaxMs', options.retryMaxMs, 60_000),
        },
        maxQueueSize,
        maxQueueBytes,
        fetch: fetchFn,
        random: options.random ?? Math.random,
        now,
        logger,
      }),
  )
  let closing: Promise<void> | undefined

  const send = (body: WebhookBody): void => {
    const targets = queues.filter((queue) => queue.accepts(body.type))
    if (targets.length === 0) return
    const text = JSON.stringify(body)
    const bytes = utf8Length(text)
    const id = messageId()
    for (const queue of targets) queue.enqueue({ id, type: body.type, body: text, bytes, failures: 0 })
  }

  // Open windows are bounded like one endpoint's queue: what they hold is about to be queued.
  const coalescer = new Coalescer({
    intervalMs: positive('coalesceMs', options.coalesceMs, 1000),
    maxWindows: maxQueueSize,
    maxBytes: maxQueueBytes,
    now,
    emit: send,
  })
  const wants = (type: WebhookBody['type']): boolean =>
    closing === undefined && queues.some((queue) => queue.accepts(type))

  return {
    documentChanged(change) {
      if (wants('document.changed')) coalescer.change(change)
    },
    documentDeleted(documentId, { actor } = {}) {
      if (closing !== undefined) return
      coalescer.flushDocument(documentId)
      send({
        type: 'document.deleted',
        timestamp: new Date(now()).toISOString(),
        data: actor === undefined ? { documentId } : { documentId, actor },
      })
    },
    presenceChanged(documentId, clientId, state) {
      if (wants('presence.changed')) coalescer.presence(documentId, clientId, state)
    },
    stats() {
      const perEndpoint = queues.map((queue) => queue.stats())
      const sum = (
        key: 'queued' | 'queuedBytes' | 'delivered' | 'retries' | 'failed' | 'dropped' | 'abandoned',
      ) => perEndpoint.reduce((total, endpoint) => total + endpoint[key], 0)
      return {
        pendingDocuments: coalescer.size,
        pendingBytes: coalescer.bytes,
        queued: sum('queued'),
        queuedBytes: sum('queuedBytes'),
        delivered: sum('delivered'),
        retries: sum('retries'),
        failed: sum('failed'),
        dropped: sum('dropped'),
        abandoned: sum('abandoned'),
        endpoints: perEndpoint,
      }
    },
    close() {
      closing ??= (async () => {
        coalescer.flushAll()
        let timer: ReturnType<typeof setTimeout> | undefined
        const deadline = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, closeTimeoutMs)
        })
        await Promise.race([Promise.all(queues.map((queue) => queue.idle())), deadline])
        clearTimeout(timer)
        for (const queue of queues) queue.stop()
      })()
      return closing
    },
  }
}

/** The part of the server handle webhooks listen to. */
export type WebhookEventSource = Pick<SyncServer, 'on' | 'off'>

/**
 * Sends signed webhooks for a server's committed changes and deleted documents (and presence,
 * when an endpoint asks for it), listening to its public events: `document-committed` (a change
 * once the store saved it, so a receiver never hears of a write a crash could lose),
 * `document-deleted` and `awareness-change`. `close()` stops listening, then flushes within its
 * bound; close it before the server, so the last changes are still sent.
 */
export function attachWebhooks(sync: WebhookEventSource, options: WebhookOptions): WebhookDispatcher {
  const dispatcher = createWebhookDispatcher(options)
  const onCommitted = (event: DocumentChangeEvent): void => {
    const change = changeFromEvent(event)
    if (change) dispatcher.documentChanged(change)
  }
  const onDeleted = (event: DocumentDeletedEvent): void => {
    // Like changes, a delete is reported by the node that made it.
    if (event.origin !== 'local') return
    dispatcher.documentDeleted(event.documentId, event.actor === undefined ? {} : { actor: event.actor })
  }
  const onAwareness = (event: AwarenessChangeEvent): void => {
    dispatcher.presenceChanged(event.documentId, event.clientId, event.state)
  }
  sync.on('document-committed', onCommitted)
  sync.on('document-deleted', onDeleted)
  sync.on('awareness-change', onAwareness)
  return {
    ...dispatcher,
    close() {
      sync.off('document-committed', onCommitted)
      sync.off('document-deleted', onDeleted)
      sync.off('awareness-change', onAwareness)
      return dispatcher.close()
    },
  }
}
