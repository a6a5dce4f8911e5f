import type { SyncSocket } from './options.js'

export interface OutboundLimits {
  /** Above this many transport-buffered bytes, messages queue here instead. */
  highWaterMark: number
  /** Buffered + queued bytes beyond which the connection must be closed. */
  hardLimit: number
  /** Queued messages (after coalescing) beyond which the connection must be closed. */
  maxQueuedMessages: number
}

/** `sent` includes "accepted under backpressure" (-1); `gone` = the socket is closed. */
export type SendOutcome = 'sent' | 'queued' | 'coalesced' | 'gone' | 'overflow'

interface Queued {
  data: string | Uint8Array
  bytes: number
}

/**
 * Per-connection send path with backpressure. While the transport is saturated, messages wait in
 * an insertion-ordered queue in which field echoes (`delta` with a `field`) coalesce by
 * (document, field): only the latest value matters, since clients adopt the echo. A replaced
 * echo moves to the back so it never overtakes a message queued after its predecessor (say, a
 * `sync_response` holding an older value). Memory is capped by bytes and entries.
 */
export class Outbound {
  readonly #socket: SyncSocket
  readonly #limits: OutboundLimits
  readonly #queue = new Map<string | number, Queued>()
  #queuedBytes = 0
  #seq = 0
  #pressured = false

  constructor(socket: SyncSocket, limits: OutboundLimits) {
    this.#socket = socket
    this.#limits = limits
  }

  get queuedMessages(): number {
    return this.#queue.size
  }

  get queuedBytes(): number {
    return this.#queuedBytes
  }

  /** True while messages wait here or the transport signalled it is full. */
  get pressured(): boolean {
    return this.#pressured || this.#queue.size > 0
  }

  /** `coalesceKey`: messages with the same key replace each other while queued. */
  send(data: string | Uint8Array, bytes: number, coalesceKey?: string): SendOutcome {
    if (!this.pressured) {
      if (this.#buffered() <= this.#limits.highWaterMark) {
        const written = this.#write(data)
        if (written === 0) return 'gone'
        if (written < 0) this.#pressured = true
        return 'sent'
      }
      this.#pressured = true
    }
    const key = coalesceKey ?? this.#seq++
    const previous = this.#queue.get(key)
    if (previous) {
      this.#queue.delete(key)
      this.#queuedBytes -= previous.bytes
    }
    this.#queue.set(key, { data, bytes })
    this.#queuedBytes += bytes
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
    for (const [key, item] of this.#queue) {
      this.#queue.delete(key)
      this.#queuedBytes -= item.bytes
      const written = this.#write(item.data)
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
    this.#queue.clear()
    this.#queuedBytes = 0
    this.#pressured = false
  }

  #overLimit(): boolean {
    return (
      this.#queue.size > this.#limits.maxQueuedMessages ||
      this.#buffered() + this.#queuedBytes > this.#limits.hardLimit
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
  #write(data: string | Uint8Array): number {
    try {
      return this.#socket.send(data)
    } catch {
      return 0
    }
  }
}
