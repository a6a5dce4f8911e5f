import { type Deferred, deferred } from './deferred.js'

const now = (): number => (typeof performance === 'undefined' ? Date.now() : performance.now())

interface PendingPing {
  sentAt: number
  done: Deferred<number>
  timer: ReturnType<typeof setTimeout>
}

/** Outstanding `ping()`s. Pongs carry nothing to match on, so they settle pings in FIFO order. */
export class PingTracker {
  private pending: PendingPing[] = []

  /** Register a ping about to be sent; resolves with the round trip in ms. */
  start(timeoutMs: number): Promise<number> {
    const done = deferred<number>()
    const entry: PendingPing = {
      sentAt: now(),
      done,
      timer: setTimeout(() => {
        this.pending = this.pending.filter((p) => p !== entry)
        done.reject(new Error(`No pong within ${timeoutMs} ms`))
      }, timeoutMs),
    }
    this.pending.push(entry)
    return done.promise
  }

  pong(): void {
    const entry = this.pending.shift()
    if (!entry) return
    clearTimeout(entry.timer)
    entry.done.resolve(now() - entry.sentAt)
  }

  rejectAll(error: Error): void {
    const pending = this.pending
    this.pending = []
    for (const entry of pending) {
      clearTimeout(entry.timer)
      entry.done.reject(error)
    }
  }
}
