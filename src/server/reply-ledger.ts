/**
 * Which of the bytes a transport still buffers are replies. A socket drains in write order, so
 * given the bytes written so far and the bytes still buffered, everything written before
 * `written - buffered` has left. Transports that count their framing in `bufferedAmount` make
 * this err towards "still buffered", which only moves bytes from the hard limit to the reply
 * budget.
 */
export class ReplyLedger {
  #written = 0
  // Reply writes that may still be buffered, oldest first from `#head`: end offset and size.
  // Created by the first reply: a connection keeps one ledger, most of them never need the arrays.
  #ends: number[] | undefined
  #sizes: number[] | undefined
  #head = 0
  #bytes = 0

  /** Record a write handed to the transport. */
  wrote(bytes: number, reply: boolean): void {
    this.#written += bytes
    if (!reply) return
    this.#ends ??= []
    this.#sizes ??= []
    this.#ends.push(this.#written)
    this.#sizes.push(bytes)
    this.#bytes += bytes
  }

  /** Reply writes still tracked (those whose bytes may be in the transport buffer). */
  get tracked(): number {
    return (this.#ends?.length ?? 0) - this.#head
  }

  /** Reply bytes among the `buffered` bytes the transport reports; forgets the writes that left. */
  pending(buffered: number): number {
    const drainedTo = this.#written - Math.max(0, buffered)
    const ends = this.#ends
    const sizes = this.#sizes
    if (!ends || !sizes) return 0
    while (this.#head < ends.length && (ends[this.#head] as number) <= drainedTo) {
      this.#bytes -= sizes[this.#head] as number
      this.#head++
    }
    if (this.#head === ends.length) {
      // Nothing tracked: the common case on every direct write, so allocate nothing then.
      if (this.#head > 0) this.clear()
      return 0
    }
    if (this.#head > 1024 && this.#head * 2 > ends.length) {
      // Drop the consumed prefix now and then, so the arrays stay as long as the backlog.
      ends.splice(0, this.#head)
      sizes.splice(0, this.#head)
      this.#head = 0
    }
    const oldestStart = (ends[this.#head] as number) - (sizes[this.#head] as number)
    return this.#bytes - Math.max(0, drainedTo - oldestStart)
  }

  clear(): void {
    this.#ends = undefined
    this.#sizes = undefined
    this.#head = 0
    this.#bytes = 0
  }
}
