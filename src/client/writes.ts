import type { JsonValue } from '../protocol/types.js'
import { type Deferred, deferred } from './deferred.js'
import type { FrameBuilder, OutFrame, WriteSpec } from './frames.js'
import { randomId } from './json.js'
import type { Replica } from './replica.js'
import type { ChangeOrigin } from './types.js'

interface QueuedWrite {
  spec: WriteSpec
  done: Deferred<void>
  /** Sent on the current connection and awaiting its ack. */
  sent: boolean
  timer?: ReturnType<typeof setTimeout>
}

export interface WriteHost {
  clientId: string
  timeoutMs: number
  frames: FrameBuilder
  isReady(): boolean
  send(frame: OutFrame): void
  /** The document's replica, created on first need. */
  ensureReplica(documentId: string): Replica
  emitChange(documentId: string, fields: string[], origin: ChangeOrigin): void
}

/**
 * Writes not yet acknowledged, in the order they were made: sent ones await their ack, unsent
 * ones (offline, or cut by a reconnect) are (re)sent in order, as the same frames, once the
 * connection is ready. Bounded, like the SDK's offline queue, so an offline client cannot grow
 * without limit. The deadline runs only while a write is in flight on a connection.
 */
export class Writes {
  private readonly entries = new Map<string, QueuedWrite>()

  constructor(
    private readonly host: WriteHost,
    readonly limit: number,
  ) {}

  write(documentId: string, fields: Array<[string, JsonValue]>): Promise<void> {
    if (fields.length === 0) return Promise.resolve()
    for (const [field, value] of fields) {
      if (value === undefined) return Promise.reject(new TypeError(`Value of "${field}" is undefined`))
    }
    if (this.entries.size >= this.limit) {
      return Promise.reject(new Error(`Outgoing queue is full (${this.limit} unacknowledged writes)`))
    }
    const replica = this.host.ensureReplica(documentId)
    const spec: WriteSpec = {
      messageId: randomId('msg'),
      documentId,
      fields: new Map(fields),
      clocks: fields.map(() => replica.nextOpClock(this.host.clientId)),
      timestamp: Date.now(),
    }
    const entry: QueuedWrite = { spec, done: deferred<void>(), sent: false }
    this.entries.set(spec.messageId, entry)
    this.host.emitChange(documentId, replica.addPending(spec.messageId, spec.fields), 'local')
    if (this.host.isReady()) this.send(entry)
    return entry.done.promise
  }

  /** Unacknowledged writes to one document. */
  pendingFor(documentId: string): number {
    let count = 0
    for (const entry of this.entries.values()) if (entry.spec.documentId === documentId) count++
    return count
  }

  isSent(messageId: string): boolean {
    return this.entries.get(messageId)?.sent === true
  }

  /** Send everything not in flight, oldest first (after a (re)connect). */
  flush(): void {
    for (const entry of this.entries.values()) if (!entry.sent) this.send(entry)
  }

  /** Resolve (no error) or reject a write; a rejected write's local overlay is rolled back. */
  settle(messageId: string, error?: Error): void {
    const entry = this.entries.get(messageId)
    if (!entry) return
    this.entries.delete(messageId)
    clearTimeout(entry.timer)
    const { documentId } = entry.spec
    const changed = this.host.ensureReplica(documentId).settle(messageId, error === undefined)
    this.host.emitChange(documentId, changed, error ? 'rollback' : 'remote')
    if (error) entry.done.reject(error)
    else entry.done.resolve()
  }

  /** The connection dropped: nothing is in flight any more, everything goes out again. */
  connectionLost(): void {
    for (const entry of this.entries.values()) {
      clearTimeout(entry.timer)
      entry.timer = undefined
      entry.sent = false
    }
  }

  rejectAll(error: Error): void {
    for (const messageId of [...this.entries.keys()]) this.settle(messageId, error)
  }

  private send(entry: QueuedWrite): void {
    const { messageId, documentId } = entry.spec
    const { timeoutMs } = this.host
    this.host.send(this.host.frames.write(entry.spec))
    entry.sent = true
    clearTimeout(entry.timer)
    entry.timer = setTimeout(() => {
      this.settle(
        messageId,
        new Error(`Write ${messageId} to "${documentId}" not acknowledged within ${timeoutMs} ms`),
      )
    }, timeoutMs)
  }
}
