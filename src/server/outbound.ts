import { ReplyLedger } from './reply-ledger.js'
import type { SyncSocket } from './transport.js'

export interface OutboundLimits {
  /** Above this many transport-buffered bytes, messages queue here instead. */
  highWaterMark: number
  /** Buffered + queued bytes (replies excluded) beyond which the connection must be closed. */
  hardLimit: number
  /** Queued messages (after coalescing, replies excluded) beyond which the connection must be closed. */
  maxQueuedMessages: number
  /** Reply bytes queued or still in the transport buffer beyond which the connection must be closed. */
  maxReplyBytes: number
}

/** `sent` includes "accepted under backpressure" (-1); `gone` = the socket is closed. */
export type SendOutcome = 'sent' | 'queued' | 'coalesced' | 'gone' | 'overflow'

interface Queued {
  data: string | Uint8Array
  bytes: number
  reply: boolean
}

/**
 * Per-connection send path with backpressure. While the transport is saturated, messages wait in
 * an insertion-ordered queue in which field echoes (`delta` with a `field`) coalesce by
 * (document, field): only the latest value matters, since clients adopt the echo. A replaced
 * echo moves to the back so it never overtakes a message queued after its predecessor (say, a
 * `sync_response` holding an older value). Memory is capped by bytes and entries.
 *
 * Replies (a document's initial sync, which the client asked for) have a budget of their own:
 * the sync of a document larger than the hard limit goes out in one turn, so under the shared
 * limit a client reading at full speed could never sync it. Broadcasts never use that budget,
 * and the budget is bounded, so a client that asks again and again without reading is closed.
 */
export class Outbound {
  readonly #socket: SyncSocket
  readonly #limits: OutboundLimits
  /** Created on the first message that has to wait: most sockets never need one. */
  #queue: Map<string | number, Queued> | undefined
  readonly #replies = new ReplyLedger()
  #queuedBytes = 0
  #queuedReplyBytes = 0
  #queuedReplies = 0
  #seq = 0
  #pressured = false

  constructor(socket: SyncSocket, limits: OutboundLimits) {
    this.#socket = socket
    this.#limits = limits
  }

  get queuedMessages(): number {
    return this.#queue?.size ?? 0
  }

  get queuedBytes(): number {
    return this.#queuedBytes
  }

  /** Reply writes whose bytes may still be in the transport buffer (bounded by what it holds). */
  get trackedReplies(): number {
    return this.#replies.tracked
  }

  /** True while messages wait here or the transport signalled it is full. */
  get pressured(): boolean {
    return this.#pressured || (this.#queue !== undefined && this.#queue.size > 0)
  }

  /**
   * `coalesceKey`: messages with the same key replace each other while queued. `reply`: the
   * answer to the client's own request, counted against `maxReplyBytes` instead of the hard limit.
   */
  send(data: string | Uint8Array, bytes: number, coalesceKey?: string, reply = false): SendOutcome {
    if (!this.pressured) {
      const buffered = this.#buffered()
      if (buffered <= this.#limits.highWaterMark) {
        // Forget replies that already left, so a socket that never backs up tracks none for long.
        this.#replies.pending(buffered)
        const written = this.#write(data, bytes, reply)
        if (written === 0) return 'gone'
        if (written < 0) this.#pressured = true
        return 'sent'
      }
      this.#pressured = true
    }
    const key = coalesceKey ?? this.#seq++
    this.#queue ??= new Map()
    const previous = this.#queue.get(key)
    if (previous) {
      this.#queue.delete(key)
      this.#count(previous, -1)
    }
    const item: Queued = { data, bytes, reply }
    this.#queue.set(key, item)
    this.#count(item, 1)
    if (this.#overLimit()) return 'overflow'
    return previous ? 'coalesced' : 'queued'
  }

  /**
   * Writes queued messages while the transport accepts them. Returns the bytes written (for
   * metrics), or `gone` / `overflow` when the connection must be dropped.
   */
  drain(): number | 'gone' | 'overflow' {
    if (!this.pressured) return 0
    if (this.#buffered() > this.#limits.highWaterMark) return this.#overLimit() ? 'overflow' : 0
    this.#pressured = false
    let bytesWritten = 0
    const queue = this.#queue
    if (!queue) return 0
    for (const [key, item] of queue) {
      queue.delete(key)
      this.#count(item, -1)
      const written = this.#write(item.data, item.bytes, item.reply)
      if (written === 0) {
        this.clear()
        return 'gone'
      }
      bytesWritten += item.bytes
      if (written < 0) {
        this.#pressured = true
        break
      }
    }
    return bytesWritten
  }

  clear(): void {
    this.#queue = undefined
    this.#queuedBytes = 0
    this.#queuedReplyBytes = 0
    this.#queuedReplies = 0
    this.#replies.clear()
    this.#pressured = false
  }

  #count(item: Queued, sign: 1 | -1): void {
    this.#queuedBytes += sign * item.bytes
    if (!item.reply) return
    this.#queuedReplyBytes += sign * item.bytes
    this.#queuedReplies += sign
  }

  #overLimit(): boolean {
    const buffered = this.#buffered()
    const repliesInTransport = this.#replies.pending(buffered)
    const ordinaryBytes = buffered - repliesInTransport + this.#queuedBytes - this.#queuedReplyBytes
    return (
      this.queuedMessages - this.#queuedReplies > this.#limits.maxQueuedMessages ||
      ordinaryBytes > this.#limits.hardLimit ||
      repliesInTransport + this.#queuedReplyBytes > this.#limits.maxReplyBytes
    )
  }

  #buffered(): number {
    try {
      return this.#socket.bufferedAmount?.() ?? 0
    } catch {
      return 0
    }
  }

  /** The socket contract says `send` never throws; a custom transport might anyway. */
  #write(data: string | Uint8Array, bytes: number, reply: boolean): number {
    let written: number
    try {
      written = this.#socket.send(data)
    } catch {
      return 0
    }
    if (written !== 0) this.#replies.wrote(bytes, reply)
    return written
  }
}
