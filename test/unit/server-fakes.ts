import { decodeServerFrame, encodeFrame } from '../../src/protocol/index.js'
import type { ServerMessage, WireFormat } from '../../src/protocol/types.js'
import type { SyncSocket } from '../../src/server/index.js'

/** A scriptable in-memory `SyncSocket`. */
export class FakeSocket implements SyncSocket {
  readonly frames: (string | Uint8Array)[] = []
  closedWith: { code: number; reason: string } | undefined
  terminated = false
  pings = 0
  /** While true, `send` accepts the frame but answers -1 (backpressure). */
  stalled = false
  /** What `bufferedAmount()` reports. */
  buffered = 0
  /** Called on every protocol ping (e.g. to answer with `handle.pong()`). */
  onPing: (() => void) | undefined
  readonly #withPing: boolean

  constructor(options: { ping?: boolean; terminate?: boolean } = {}) {
    this.#withPing = options.ping ?? true
    if (!this.#withPing) this.ping = undefined
    if (options.terminate) {
      this.terminate = () => {
        this.terminated = true
      }
    }
  }

  send(data: string | Uint8Array): number {
    if (this.closedWith || this.terminated) return 0
    this.frames.push(data)
    if (this.stalled) return -1
    return typeof data === 'string' ? data.length : data.byteLength
  }

  close(code: number, reason: string): void {
    this.closedWith ??= { code, reason }
  }

  ping?: () => void = () => {
    this.pings++
    this.onPing?.()
  }

  terminate?: () => void

  bufferedAmount(): number {
    return this.buffered
  }

  messages(): ServerMessage[] {
    return this.frames.map((frame) => {
      const decoded = decodeServerFrame(frame)
      if (!decoded.ok) throw new Error(`undecodable frame: ${decoded.error.message}`)
      return decoded.message
    })
  }

  ofType<T extends ServerMessage['type']>(type: T): Extract<ServerMessage, { type: T }>[] {
    return this.messages().filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type)
  }
}

export function frame(type: string, fields: Record<string, unknown> = {}, format: WireFormat = 'binary') {
  return encodeFrame(type, fields, Date.now(), format)
}

/** Lets every pending end-of-turn flush and microtask run. */
export async function turns(count = 3): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve))
}

/** Polls `condition` until it holds; fails after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  timeoutMs = 2_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
