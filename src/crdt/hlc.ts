import type { Stamp } from './types.js'

/** (ms, counter) of the greatest stamp a clock has issued or observed. */
export interface HlcTime {
  ms: number
  counter: number
}

const finiteOr = (n: number, fallback: number): number => (Number.isFinite(n) ? n : fallback)

/**
 * Hybrid logical clock (Kulkarni et al.): stamps track wall time when it moves forward and fall
 * back to a logical counter when it stalls or goes backwards, so stamps stay strictly increasing
 * and stay above every remote stamp observed (a causally later write always wins LWW).
 * Wall time is an argument: the clock itself never reads the time.
 */
export class HybridLogicalClock {
  readonly node: string
  #ms: number
  #counter: number

  constructor(node: string, last?: HlcTime) {
    this.node = node
    this.#ms = last ? finiteOr(last.ms, 0) : 0
    this.#counter = last ? finiteOr(last.counter, 0) : 0
  }

  /** A stamp strictly greater than every stamp issued or observed so far, whatever `wallMs` is. */
  now(wallMs: number): Stamp {
    // Non-finite wall time (NaN from a broken clock) must not poison the state: use last.ms.
    const wall = Number.isFinite(wallMs) ? Math.floor(wallMs) : this.#ms
    if (wall > this.#ms) {
      this.#ms = wall
      this.#counter = 0
    } else {
      this.#counter += 1
    }
    return { ms: this.#ms, counter: this.#counter, node: this.node }
  }

  /**
   * Record a remote stamp so later local stamps exceed it. Equal (ms, counter) is enough: the
   * next `now()` bumps the counter, which beats any node id. Non-finite stamps are ignored.
   */
  observe(stamp: Stamp): void {
    if (!Number.isFinite(stamp.ms) || !Number.isFinite(stamp.counter)) return
    if (stamp.ms > this.#ms || (stamp.ms === this.#ms && stamp.counter > this.#counter)) {
      this.#ms = stamp.ms
      this.#counter = stamp.counter
    }
  }

  /** Persist this to resume after a restart without ever reissuing a stamp. */
  get last(): HlcTime {
    return { ms: this.#ms, counter: this.#counter }
  }
}
