import type { PersistEffect, Resolution } from '../engine/types.js'

export interface PersistQueueHooks {
  /** Saves one batch (with the retry policy) and answers for that batch's id. */
  save(effect: PersistEffect): Promise<Resolution>
  /**
   * Runs `task` once the current callback is done, after the socket writes it made were handed
   * to the transport (a microtask: the ws adapter uncorks in `process.nextTick`, which runs first).
   */
  soon(task: () => void): void
  /** Runs `task` after the I/O events already waiting (setImmediate where there is one). */
  later(task: () => void): void
  /** Runs `task` in `ms` milliseconds. */
  after(ms: number, task: () => void): void
  /** Milliseconds, sub-millisecond where the platform has it. */
  now(): number
}

/**
 * A store that holds the event loop while it saves (PGlite, SQLite: the save settled before the
 * loop got control back) gets at most a third of it: the next save starts no sooner than twice
 * as long after the previous one ended as that one held the loop, at most this long.
 */
export const MAX_PERSIST_PACE_MS = 5

/** After this many batches in a row failed on their own, the rest of a split group fail unsaved. */
const OUTAGE_AFTER = 2

interface Waiting {
  effect: PersistEffect
  resolve(resolution: Resolution): void
}

/**
 * Group commit across turns. One save is in flight at a time; batches that arrive meanwhile
 * wait and are saved together by the next one (one statement or transaction instead of one per
 * turn), each still answered with its own id. A save never starts inside the callback that
 * produced it: a store that works on the event loop then runs after that turn's echoes were
 * written. Such a store is also paced (`MAX_PERSIST_PACE_MS`): under load its batches grow
 * instead of its transactions taking the loop from the echoes.
 *
 * Several batches go to the store as one `save` of all their documents (the store contract merges
 * duplicates). If that fails, each batch is retried alone, so one the store refuses cannot fail
 * the others; when two in a row fail alone too, the store itself is failing and the rest are
 * answered as failed without another attempt (the engine keeps them for the next flush).
 */
export class PersistQueue {
  readonly #hooks: PersistQueueHooks
  #waiting: Waiting[] = []
  #scheduled = false
  #saving = false
  /** When the next save may start (pacing of a store that holds the loop). */
  #notBefore = 0

  constructor(hooks: PersistQueueHooks) {
    this.#hooks = hooks
  }

  persist(effect: PersistEffect): Promise<Resolution> {
    return new Promise((resolve) => {
      this.#waiting.push({ effect, resolve })
      this.#schedule()
    })
  }

  #schedule(): void {
    if (this.#scheduled || this.#saving || this.#waiting.length === 0) return
    this.#scheduled = true
    const wait = this.#notBefore - this.#hooks.now()
    if (wait > 0) this.#hooks.after(wait, () => this.#start())
    else this.#hooks.soon(() => this.#start())
  }

  #start(): void {
    this.#scheduled = false
    if (this.#saving || this.#waiting.length === 0) return
    const group = this.#waiting
    this.#waiting = []
    this.#saving = true
    const started = this.#hooks.now()
    let yielded = false
    this.#hooks.later(() => {
      yielded = true
    })
    void this.#save(group).finally(() => {
      const ended = this.#hooks.now()
      const pace = yielded ? 0 : 2 * (ended - started)
      // Below a millisecond (timer granularity) a pause would cost more than it spares.
      this.#notBefore = pace >= 1 ? ended + Math.min(MAX_PERSIST_PACE_MS, pace) : 0
      this.#saving = false
      this.#schedule()
    })
  }

  async #save(group: Waiting[]): Promise<void> {
    const result = await this.#hooks.save(group.length === 1 ? (group[0] as Waiting).effect : merged(group))
    if (result.kind === 'persisted' || group.length === 1) {
      for (const entry of group) entry.resolve(answerFor(entry.effect, result))
      return
    }
    let failedInARow = 0
    for (const entry of group) {
      if (failedInARow >= OUTAGE_AFTER) {
        entry.resolve(answerFor(entry.effect, result))
        continue
      }
      const alone = await this.#hooks.save(entry.effect)
      failedInARow = alone.kind === 'persisted' ? 0 : failedInARow + 1
      entry.resolve(answerFor(entry.effect, alone))
    }
  }
}

function merged(group: readonly Waiting[]): PersistEffect {
  const first = (group[0] as Waiting).effect
  return {
    kind: 'persist',
    batchId: first.batchId,
    documents: group.flatMap((entry) => entry.effect.documents),
  }
}

/** The outcome of the save that carried `effect`, under `effect`'s own batch id. */
function answerFor(effect: PersistEffect, result: Resolution): Resolution {
  if (result.kind === 'persisted') return { kind: 'persisted', batchId: effect.batchId }
  const error = result.kind === 'persist-failed' ? result.error : 'store unavailable'
  return { kind: 'persist-failed', batchId: effect.batchId, error }
}
