import type { SyncResponseOut } from '../protocol/types.js'
import { type Deferred, deferred } from './deferred.js'
import type { FrameBuilder, OutFrame } from './frames.js'
import { randomId } from './json.js'
import type { Replica } from './replica.js'
import type { ClientDialect, DocumentReplica } from './types.js'

/** A `subscribe` (or resync) waiting for its `sync_response`. */
interface SubscribeRequest {
  documentId: string
  requestId: string
  attempt: number
  /** After a reconnect, for a document already synced: resync by vector clock (sdk). */
  resync: boolean
  sent: boolean
  waiters: Deferred<DocumentReplica>[]
  timer?: ReturnType<typeof setTimeout>
}

/** Legacy test client: 3 `sync_request` attempts, 200 then 400 ms apart (docs/protocol.md §10.3). */
const LEGACY_ATTEMPTS = 3
const LEGACY_RETRY_BASE_MS = 200

export interface SubscriptionHost {
  dialect: ClientDialect
  timeoutMs: number
  frames: FrameBuilder
  isReady(): boolean
  send(frame: OutFrame): void
  /** The document's replica, created on first need. */
  ensureReplica(documentId: string): Replica
  emitError(error: Error): void
}

/** Subscribe requests in flight, their deadlines and the legacy dialect's retries. */
export class Subscriptions {
  private readonly requests = new Map<string, SubscribeRequest>()

  constructor(private readonly host: SubscriptionHost) {}

  has(documentId: string): boolean {
    return this.requests.has(documentId)
  }

  /** Wait for the document's `sync_response`, sending the request now if connected. */
  wait(documentId: string): Promise<DocumentReplica> {
    const request = this.ensure(documentId)
    const waiter = deferred<DocumentReplica>()
    request.waiters.push(waiter)
    if (this.host.isReady() && !request.sent) this.send(request)
    return waiter.promise
  }

  /** A connection became ready: (re)subscribe, resyncing documents already synced. */
  resubscribe(replica: Replica): void {
    const request = this.ensure(replica.documentId)
    request.resync = replica.synced
    request.attempt = 0
    this.send(request)
  }

  /** The connection dropped: nothing is in flight any more. */
  connectionLost(): void {
    for (const request of this.requests.values()) {
      clearTimeout(request.timer)
      request.sent = false
    }
  }

  /** The request a `sync_response` answers: by `requestId` (legacy), else by document (SDK). */
  settle(message: SyncResponseOut): void {
    let request: SubscribeRequest | undefined
    for (const candidate of this.requests.values())
      if (candidate.requestId === message.requestId) request = candidate
    request ??= this.requests.get(message.documentId)
    if (!request) return
    clearTimeout(request.timer)
    this.requests.delete(request.documentId)
    const replica = this.host.ensureReplica(request.documentId)
    for (const waiter of request.waiters) waiter.resolve(replica)
  }

  /** A server refusal for a document fails the subscribe in flight, if any. */
  refuse(documentId: string, error: Error): void {
    const request = this.requests.get(documentId)
    if (request?.sent) this.fail(request, error)
  }

  failAll(error: Error): void {
    for (const request of this.requests.values()) this.fail(request, error)
  }

  private ensure(documentId: string): SubscribeRequest {
    let request = this.requests.get(documentId)
    if (!request) {
      request = { documentId, requestId: '', attempt: 0, resync: false, sent: false, waiters: [] }
      this.requests.set(documentId, request)
    }
    return request
  }

  private send(request: SubscribeRequest): void {
    const { frames, timeoutMs } = this.host
    request.attempt++
    request.requestId = randomId('req')
    const frame = request.resync
      ? frames.resync(
          request.documentId,
          request.requestId,
          this.host.ensureReplica(request.documentId).clock,
        )
      : frames.subscribe(request.documentId, request.requestId)
    this.host.send(frame)
    request.sent = true
    clearTimeout(request.timer)
    request.timer = setTimeout(() => this.timedOut(request), timeoutMs)
  }

  private timedOut(request: SubscribeRequest): void {
    if (this.host.dialect === 'legacy' && request.attempt < LEGACY_ATTEMPTS) {
      request.sent = false
      const delay = LEGACY_RETRY_BASE_MS * 2 ** (request.attempt - 1)
      request.timer = setTimeout(() => {
        if (this.host.isReady() && this.requests.get(request.documentId) === request && !request.sent) {
          this.send(request)
        }
      }, delay)
      return
    }
    const error = new Error(
      `No sync_response for "${request.documentId}" within ${this.host.timeoutMs} ms (${request.attempt} attempt(s))`,
    )
    // A resync after reconnect has nobody waiting: report it instead.
    if (request.waiters.length === 0) this.host.emitError(error)
    this.fail(request, error)
  }

  private fail(request: SubscribeRequest, error: Error): void {
    clearTimeout(request.timer)
    this.requests.delete(request.documentId)
    const replica = this.host.ensureReplica(request.documentId)
    if (!replica.synced) replica.subscribed = false
    for (const waiter of request.waiters) waiter.reject(error)
  }
}
