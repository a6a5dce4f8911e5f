/** The orchestrator's side of the load processes: fork, send a job, await its reply. */
import { type ChildProcess, fork } from 'node:child_process'
import type {
  ClosedLoopJob,
  ClosedLoopResult,
  Job,
  OpenJob,
  OpenLoopJob,
  OpenLoopResult,
  OpenResult,
  PingJob,
  PingResult,
  Reply,
  Schedule,
} from './jobs.js'
import { readCpuMs } from './proc.js'
import { loaderArgs, script } from './targets.js'

export class LoadProcess {
  readonly #child: ChildProcess
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>()
  #nextId = 1
  #exited = false

  constructor(readonly name: string) {
    // `advanced` serialization: latency samples come back as Float64Arrays, not JSON arrays.
    // `--expose-gc`: a ping job collects the garbage of the setup first (see `pings` in load.ts).
    this.#child = fork(script('load'), [], {
      execArgv: [...loaderArgs(), '--expose-gc'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.#child.on('message', (message: Reply) => {
      const pending = this.#pending.get(message.id)
      if (!pending) return
      this.#pending.delete(message.id)
      if (message.ok) pending.resolve(message.result)
      else pending.reject(new Error(`${this.name}: ${message.error}`))
    })
    this.#child.once('exit', (code, signal) => {
      this.#exited = true
      for (const pending of this.#pending.values()) {
        pending.reject(new Error(`${this.name} exited (${code ?? signal})`))
      }
      this.#pending.clear()
    })
  }

  get pid(): number {
    return this.#child.pid as number
  }

  cpuMs(): number {
    return readCpuMs(this.pid)
  }

  open(job: Omit<OpenJob, 'kind'>, timeoutMs = 120_000): Promise<OpenResult> {
    return this.#run({ kind: 'open', ...job }, timeoutMs) as Promise<OpenResult>
  }

  openLoop(job: Omit<OpenLoopJob, 'kind'>): Promise<Record<string, OpenLoopResult>> {
    return this.#run(
      { kind: 'open-loop', ...job },
      scheduleMs(job.schedule) + job.drainMs + 30_000,
    ) as Promise<Record<string, OpenLoopResult>>
  }

  closedLoop(job: Omit<ClosedLoopJob, 'kind'>): Promise<Record<string, ClosedLoopResult>> {
    return this.#run({ kind: 'closed-loop', ...job }, scheduleMs(job.schedule) + 30_000) as Promise<
      Record<string, ClosedLoopResult>
    >
  }

  pings(job: Omit<PingJob, 'kind'>): Promise<PingResult> {
    return this.#run(
      { kind: 'pings', ...job },
      job.durationMs + job.timeoutMs + 30_000,
    ) as Promise<PingResult>
  }

  async close(set: string): Promise<void> {
    await this.#run({ kind: 'close', set }, 30_000)
  }

  stop(): void {
    if (!this.#exited) this.#child.kill('SIGKILL')
  }

  #run(job: Job, timeoutMs: number): Promise<unknown> {
    if (this.#exited) return Promise.reject(new Error(`${this.name} is not running`))
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new Error(`${this.name}: ${job.kind} did not finish within ${timeoutMs} ms`))
      }, timeoutMs)
      this.#pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer)
          resolve(value)
        },
        reject: (error) => {
          clearTimeout(timer)
          reject(error)
        },
      })
      this.#child.send({ id, job })
    })
  }
}

function scheduleMs(s: Schedule): number {
  return Math.max(0, s.startAt - Date.now()) + s.sets.length * s.cycles * (s.sliceMs + s.gapMs)
}

/**
 * Source addresses for client sockets: a fresh one per connection set, so ports never run out.
 * Linux routes all of 127.0.0.0/8 to the loopback; elsewhere only 127.0.0.1 is sure to exist.
 */
export class AddressPool {
  #next = 0
  take(): string {
    if (process.platform !== 'linux') return '127.0.0.1'
    const n = this.#next++
    return `127.0.${Math.floor(n / 250)}.${2 + (n % 250)}`
  }
}
