/** Timer helpers that work on Node, Bun, Deno and browsers, and never keep a process alive. */

type Task = () => void

/**
 * Runs `task` once the current I/O turn is over: `setImmediate` where it exists (after every
 * socket event already queued in this poll phase, so one flush covers them all), else a macrotask.
 */
export function endOfTurn(task: Task): void {
  const immediate = (globalThis as { setImmediate?: (fn: Task) => unknown }).setImmediate
  if (typeof immediate === 'function') immediate(task)
  else setTimeout(task, 0)
}

export interface RepeatingTimer {
  stop(): void
}

/** Where the runtime gets its periodic tasks scheduled (tick, heartbeat). */
export interface Timers {
  every(intervalMs: number, task: Task): RepeatingTimer
}

/** `setInterval`, the default everywhere a process stays up (see `every`). */
export const INTERVAL_TIMERS: Timers = { every: (intervalMs, task) => every(intervalMs, task) }

export function every(intervalMs: number, task: Task): RepeatingTimer {
  const handle = setInterval(task, intervalMs)
  unref(handle)
  return { stop: () => clearInterval(handle) }
}

/** Runs `task` once after `ms`, without keeping the process alive for it. */
export function after(ms: number, task: Task): void {
  unref(setTimeout(task, ms))
}

/** Not unref'd: a persist retry pending at shutdown must keep the process alive until it lands. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function unref(handle: unknown): void {
  const timer = handle as { unref?: () => void } | undefined
  if (typeof timer?.unref === 'function') timer.unref()
}
