import { Webhook } from 'standardwebhooks'
import type { ResolvedWebhookEndpoint, WebhookEventType } from './config.js'
import { Deque } from './deque.js'
import { parseRetryAfter, type RetryPolicy, retryDelay } from './retry.js'

/** pino's calling convention, so a pino logger can be passed as is. */
export interface WebhookLogger {
  /** Drops, give-ups, a disabled endpoint, messages lost at shutdown. */
  warn(fields: Record<string, unknown>, message: string): void
}

/** One message to one endpoint. `id` stays the same across retries (the receiver's idempotency key). */
export interface Delivery {
  readonly id: string
  readonly type: WebhookEventType
  readonly body: string
  readonly bytes: number
  failures: number
}

/** One endpoint's part of `WebhookStats`. */
export interface EndpointStats {
  url: string
  /** Messages waiting or being sent. */
  queued: number
  queuedBytes: number
  delivered: number
  /** Attempts that failed and were scheduled again. */
  retries: number
  /** Messages given up after `maxAttempts` failed attempts. */
  failed: number
  /** Messages dropped because the queue was full (oldest first). */
  dropped: number
  /** Messages still queued when `close()` ran out of time. */
  abandoned: number
  /** True after the receiver answered 410 Gone: nothing more is sent to it. */
  disabled: boolean
}

export interface EndpointQueueOptions {
  endpoint: ResolvedWebhookEndpoint
  timeoutMs: number
  maxAttempts: number
  retry: RetryPolicy
  maxQueueSize: number
  maxQueueBytes: number
  fetch: typeof fetch
  random: () => number
  now: () => number
  logger: WebhookLogger
}

type Outcome = { ok: true } | { ok: false; status?: number; retryAfterMs?: number; reason: string }

/**
 * One receiver's queue: bounded in messages and bytes (the oldest is dropped on overflow), sent
 * one at a time in order, each retried with capped exponential backoff until it succeeds or runs
 * out of attempts. A message counts as delivered on a 2xx answer only (redirects are failures, as
 * the Standard Webhooks spec recommends). Drops are logged once per burst, not per message.
 */
export class EndpointQueue {
  readonly #options: EndpointQueueOptions
  readonly #signer: Webhook
  readonly #queue = new Deque<Delivery>()
  #bytes = 0
  /** The head is being sent, or waiting for its retry. */
  #busy = false
  #abort: AbortController | undefined
  #retryTimer: ReturnType<typeof setTimeout> | undefined
  #stopped = false
  #dropBurst = 0
  #idleWaiters: (() => void)[] = []
  readonly #stats: EndpointStats

  constructor(options: EndpointQueueOptions) {
    this.#options = options
    this.#signer = new Webhook(options.endpoint.secret)
    this.#stats = {
      url: options.endpoint.url,
      queued: 0,
      queuedBytes: 0,
      delivered: 0,
      retries: 0,
      failed: 0,
      dropped: 0,
      abandoned: 0,
      disabled: false,
    }
  }

  stats(): EndpointStats {
    return { ...this.#stats, queued: this.#queue.length, queuedBytes: this.#bytes }
  }

  accepts(type: WebhookEventType): boolean {
    return this.#options.endpoint.events.has(type)
  }

  enqueue(delivery: Delivery): void {
    if (this.#stopped) return
    if (this.#stats.disabled) {
      this.#stats.dropped++
      return
    }
    const { maxQueueSize, maxQueueBytes } = this.#options
    if (delivery.bytes > maxQueueBytes) {
      this.#countDrop(delivery, 'larger than maxQueueBytes')
      return
    }
    let dropped = false
    while (this.#queue.length >= maxQueueSize || this.#bytes + delivery.bytes > maxQueueBytes) {
      this.#dropOldest()
      dropped = true
    }
    if (!dropped) this.#endDropBurst()
    this.#queue.push(delivery)
    this.#bytes += delivery.bytes
    this.#pump()
  }

  /** Resolves when nothing is queued or being sent. */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && !this.#busy) return Promise.resolve()
    return new Promise((resolve) => this.#idleWaiters.push(resolve))
  }

  /** Stops for good: the request in flight is aborted, whatever is left is counted as abandoned. */
  stop(): void {
    if (this.#stopped) return
    this.#stopped = true
    this.#clearRetry()
    this.#abort?.abort()
    this.#abort = undefined
    this.#busy = false
    const left = this.#queue.drain()
    this.#bytes = 0
    this.#stats.abandoned += left.length
    if (left.length > 0) {
      this.#options.logger.warn(
        { url: this.#stats.url, abandoned: left.length },
        'webhook: shutting down with undelivered messages',
      )
    }
    this.#endDropBurst()
    this.#notifyIdle()
  }

  #dropOldest(): void {
    const oldest = this.#queue.shift()
    if (!oldest) return
    this.#bytes -= oldest.bytes
    // The head may be on the wire or waiting for a retry: abandon that attempt.
    if (this.#busy) {
      this.#clearRetry()
      this.#abort?.abort()
      this.#abort = undefined
      this.#busy = false
    }
    this.#countDrop(oldest, 'queue full')
  }

  #countDrop(delivery: Delivery, reason: string): void {
    this.#stats.dropped++
    if (this.#dropBurst++ === 0) {
      this.#options.logger.warn(
        { url: this.#stats.url, reason, id: delivery.id, type: delivery.type },
        'webhook: queue overflow, dropping the oldest messages',
      )
    }
  }

  #endDropBurst(): void {
    if (this.#dropBurst === 0) return
    this.#options.logger.warn(
      { url: this.#stats.url, dropped: this.#dropBurst },
      'webhook: queue overflow ended',
    )
    this.#dropBurst = 0
  }

  #pump(): void {
    if (this.#busy || this.#stopped) return
    const head = this.#queue.peek()
    if (!head) {
      this.#notifyIdle()
      return
    }
    this.#busy = true
    const abort = new AbortController()
    this.#abort = abort
    void this.#attempt(head, abort).then((outcome) => {
      // Dropped or stopped meanwhile: that attempt no longer owns the head.
      if (this.#stopped || this.#abort !== abort) return
      this.#abort = undefined
      this.#settle(head, outcome)
    })
  }

  #settle(head: Delivery, outcome: Outcome): void {
    if (outcome.ok) {
      this.#remove(head)
      this.#stats.delivered++
      this.#next()
      return
    }
    if (outcome.status === 410) {
      this.#disable()
      return
    }
    head.failures++
    if (head.failures >= this.#options.maxAttempts) {
      this.#remove(head)
      this.#stats.failed++
      this.#options.logger.warn(
        {
          url: this.#stats.url,
          id: head.id,
          type: head.type,
          attempts: head.failures,
          reason: outcome.reason,
        },
        'webhook: giving up on a message',
      )
      this.#next()
      return
    }
    this.#stats.retries++
    const delay = retryDelay(head.failures, this.#options.retry, this.#options.random, outcome.retryAfterMs)
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined
      this.#next()
    }, delay)
  }

  #next(): void {
    this.#busy = false
    this.#pump()
  }

  #remove(head: Delivery): void {
    if (this.#queue.peek() !== head) return
    this.#queue.shift()
    this.#bytes -= head.bytes
  }

  #disable(): void {
    this.#stats.disabled = true
    this.#options.logger.warn(
      { url: this.#stats.url },
      'webhook: receiver answered 410 Gone, no more messages are sent to it',
    )
    this.#stats.dropped += this.#queue.length
    this.#queue.drain()
    this.#bytes = 0
    this.#busy = false
    this.#notifyIdle()
  }

  async #attempt(delivery: Delivery, abort: AbortController): Promise<Outcome> {
    const { endpoint, timeoutMs, now } = this.#options
    const { signal } = abort
    const timer = setTimeout(() => abort.abort(), timeoutMs)
    try {
      const response = await this.#options.fetch(endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': delivery.id,
          'webhook-timestamp': String(Math.floor(now() / 1000)),
          'webhook-signature': this.#signer.sign(delivery.id, new Date(now()), delivery.body),
        },
        body: delivery.body,
        redirect: 'manual',
        signal,
      })
      // Free the connection; the receiver's answer is not used.
      await response.body?.cancel().catch(() => {})
      if (response.status >= 200 && response.status < 300) return { ok: true }
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), now())
      return {
        ok: false,
        status: response.status,
        reason: `HTTP ${response.status}`,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      }
    } catch (error) {
      const reason = signal.aborted ? `no answer within ${timeoutMs} ms` : String(error)
      return { ok: false, reason }
    } finally {
      clearTimeout(timer)
    }
  }

  #clearRetry(): void {
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer)
    this.#retryTimer = undefined
  }

  #notifyIdle(): void {
    if (this.#queue.length > 0 && !this.#stopped) return
    const waiters = this.#idleWaiters
    this.#idleWaiters = []
    for (const resolve of waiters) resolve()
  }
}
