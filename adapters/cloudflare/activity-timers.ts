import type { RepeatingTimer, Timers } from '../../src/server/scheduler.js'

interface Task {
  readonly intervalMs: number
  readonly run: () => void
  lastRun: number
  stopped: boolean
}

/**
 * The runtime's periodic tasks (tick, heartbeat) for a Durable Object. A pending `setTimeout`
 * keeps an object in memory, billed, and stops it from hibernating; an alarm would wake it up
 * again. So tasks run only while the object is busy: from an event (`wake()`), for two tick
 * periods after the last event, and for as long as `hasWork()` says something still needs time
 * (an unauthenticated connection's deadline, presence to expire, a queue, a write in flight).
 * A task that fell due while the object slept runs at the next event, before the event itself:
 * a token that expired meanwhile is caught before the connection's next frame is handled.
 */
export class ActivityTimers implements Timers {
  readonly #tasks: Task[] = []
  readonly #hasWork: () => boolean
  #timer: ReturnType<typeof setTimeout> | undefined
  #lastEvent = 0

  constructor(hasWork: () => boolean) {
    this.#hasWork = hasWork
  }

  every(intervalMs: number, run: () => void): RepeatingTimer {
    const task: Task = { intervalMs, run, lastRun: 0, stopped: false }
    this.#tasks.push(task)
    return {
      stop: () => {
        task.stopped = true
      },
    }
  }

  /** An event arrived (a request, a frame, a close). */
  wake(): void {
    this.#lastEvent = Date.now()
    if (this.#timer !== undefined) return
    this.#runDue()
    this.#schedule()
  }

  /** True while a task is scheduled: the object cannot hibernate. */
  get running(): boolean {
    return this.#timer !== undefined
  }

  #schedule(): void {
    const live = this.#tasks.filter((task) => !task.stopped)
    if (live.length === 0) return
    const step = Math.min(...live.map((task) => task.intervalMs))
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#runDue()
      if (Date.now() - this.#lastEvent < 2 * step || this.#hasWork()) this.#schedule()
    }, step)
  }

  #runDue(): void {
    const now = Date.now()
    for (const task of this.#tasks) {
      if (task.stopped || now - task.lastRun < task.intervalMs) continue
      task.lastRun = now
      task.run()
    }
  }
}
