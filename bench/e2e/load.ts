/**
 * A load process of the e2e benchmark (forked by `run.ts`, jobs over IPC). It holds sets of raw
 * WebSocket connections to one target each, and drives them open-loop, closed-loop or with pings.
 * Receivers do as little as possible per frame (one byte, one `indexOf`), so the relay, which does
 * even less, stays the limit of the pair and not this process.
 */
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import { WebSocket } from 'ws'
import { CODE, pingFrame, readValue, subscribeFrame, type WriteShape, writeFrame } from './frames.js'
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
  TargetKind,
} from './jobs.js'
import { readCpuMs } from './proc.js'

interface Conn {
  ws: WebSocket
  documentId: string
  /** Index among the set's writers, or -1 for a reader. */
  writer: number
  clientId: string
  counter: number
  /** Connections of its document (writers + readers): how many echoes one of its writes makes. */
  groupSize: number
  pingAt: number
}

/** The measurement currently driving a set; frames outside one are ignored. */
interface Run {
  echo(conn: Conn, value: number, now: number): void
  ack(conn: Conn, now: number): void
  pong(conn: Conn, now: number): void
  error(frame: Buffer): void
}

interface ConnSet {
  target: TargetKind
  shape: WriteShape
  conns: Conn[]
  writers: Conn[]
  run: Run | undefined
  /** Connections that closed on their own after setup (the server dropped them). */
  dropped: number
  closing: boolean
}

const sets = new Map<string, ConnSet>()
/** Write values never repeat within a process, so a late echo is never taken for a new write. */
let nextBase = 0

process.on('message', (message: { id: number; job: Job }) => {
  handle(message.job).then(
    (result) => reply({ id: message.id, ok: true, result }),
    (error: unknown) => reply({ id: message.id, ok: false, error: String((error as Error)?.stack ?? error) }),
  )
})
process.on('disconnect', () => process.exit(0))

function reply(message: Reply): void {
  process.send?.(message)
}

function handle(job: Job): Promise<unknown> {
  switch (job.kind) {
    case 'open':
      return open(job)
    case 'open-loop':
      return openLoop(job)
    case 'closed-loop':
      return closedLoop(job)
    case 'pings':
      return pings(job)
    case 'close':
      return close(job.set)
  }
}

// ------------------------------------------------------------------ connections

async function open(job: OpenJob): Promise<OpenResult> {
  const started = performance.now()
  const set: ConnSet = sets.get(job.set) ?? {
    target: job.target,
    shape: job.shape,
    conns: [],
    writers: [],
    run: undefined,
    dropped: 0,
    closing: false,
  }
  sets.set(job.set, set)
  const specs: { documentId: string; writer: boolean; groupSize: number }[] = []
  for (const group of job.groups) {
    const groupSize = group.writers + group.readers
    for (let i = 0; i < groupSize; i++)
      specs.push({ documentId: group.documentId, writer: i < group.writers, groupSize })
  }
  let failed = 0
  let firstError: string | undefined
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < specs.length) {
      const spec = specs[next++] as (typeof specs)[number]
      try {
        const conn = await connect(job, set, spec.documentId, spec.groupSize)
        if (spec.writer) {
          conn.writer = set.writers.length
          set.writers.push(conn)
        }
        set.conns.push(conn)
      } catch (error) {
        failed++
        firstError ??= String((error as Error)?.message ?? error)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, job.concurrency) }, worker))
  return {
    opened: set.conns.length,
    failed,
    ...(firstError ? { firstError } : {}),
    ms: performance.now() - started,
  }
}

const HANDSHAKE_TIMEOUT_MS = 30_000

function connect(job: OpenJob, set: ConnSet, documentId: string, groupSize: number): Promise<Conn> {
  const query = job.target === 'relay' ? `?doc=${encodeURIComponent(documentId)}` : ''
  const ws = new WebSocket(`${job.url}${query}`, {
    perMessageDeflate: false,
    skipUTF8Validation: true,
    localAddress: job.localAddress,
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
  })
  const conn: Conn = {
    ws,
    documentId,
    writer: -1,
    clientId: `c${Math.random().toString(36).slice(2, 10)}`,
    counter: 0,
    groupSize,
    pingAt: 0,
  }
  return new Promise<Conn>((resolve, reject) => {
    let ready = false
    const timer = setTimeout(() => fail(new Error('no sync_response within 30 s')), HANDSHAKE_TIMEOUT_MS)
    const fail = (error: Error): void => {
      if (ready) return
      ready = true
      clearTimeout(timer)
      ws.terminate()
      reject(error)
    }
    const becomeReady = (): void => {
      if (ready) return
      ready = true
      clearTimeout(timer)
      resolve(conn)
    }
    ws.on('error', (error) => fail(error))
    ws.on('close', () => {
      if (ready && !set.closing) set.dropped++
      fail(new Error('closed during setup'))
    })
    ws.on('open', () => {
      if (job.target === 'relay') becomeReady()
      else ws.send(subscribeFrame(documentId))
    })
    ws.on('message', (data: Buffer) => {
      const code = data[0]
      if (code === CODE.syncResponse) becomeReady()
      const run = set.run
      if (!run) return
      const now = performance.now()
      if (code === CODE.delta || code === CODE.deltaBatch) run.echo(conn, readValue(data), now)
      else if (code === CODE.ack) run.ack(conn, now)
      else if (code === CODE.pong) run.pong(conn, now)
      else if (code === CODE.error) run.error(data)
    })
  })
}

async function close(name: string): Promise<{ closed: number }> {
  const set = sets.get(name)
  if (!set) return { closed: 0 }
  sets.delete(name)
  set.closing = true
  for (const conn of set.conns) conn.ws.terminate()
  return { closed: set.conns.length }
}

function requireSet(name: string): ConnSet {
  const set = sets.get(name)
  if (!set) throw new Error(`unknown connection set ${name}`)
  if (set.run) throw new Error(`set ${name} is busy`)
  return set
}

function send(conn: Conn, frame: Uint8Array): void {
  if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(frame)
}

function write(set: ConnSet, conn: Conn, field: string, value: number): void {
  send(conn, writeFrame(set.shape, conn.documentId, field, value, conn.clientId, ++conn.counter))
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** CPU ms of this process since `from` (a `process.cpuUsage()`). */
function cpuSince(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from)
  return (used.user + used.system) / 1000
}

/** A growable sample buffer. */
class Samples {
  #data: Float64Array
  length = 0
  constructor(capacity: number) {
    this.#data = new Float64Array(Math.max(1024, capacity))
  }
  push(value: number): void {
    if (this.length === this.#data.length) {
      const bigger = new Float64Array(this.#data.length * 2)
      bigger.set(this.#data)
      this.#data = bigger
    }
    this.#data[this.length++] = value
  }
  values(): Float64Array {
    return this.#data.slice(0, this.length)
  }
}

// ------------------------------------------------------------------ slices

interface Slice {
  set: string
  /** performance.now() at which the slice starts and ends. */
  start: number
  end: number
}

/** The slices of a schedule in time order, on this process's `performance.now()` clock. */
function slicesOf(schedule: Schedule): Slice[] {
  const origin = schedule.startAt - Date.now() + performance.now()
  const names = schedule.sets.map((s) => s.name)
  const slices: Slice[] = []
  for (let cycle = 0; cycle < schedule.cycles; cycle++) {
    for (let i = 0; i < names.length; i++) {
      const start = origin + slices.length * (schedule.sliceMs + schedule.gapMs)
      slices.push({ set: names[(i + cycle) % names.length] as string, start, end: start + schedule.sliceMs })
    }
  }
  return slices
}

/**
 * Runs `slice` for each slice in turn and charges each target the CPU time it used from the
 * start of its slice to the start of the next one (so work it finishes in the gap counts too).
 */
async function runSlices(
  schedule: Schedule,
  slice: (slice: Slice) => Promise<void>,
): Promise<{ cpuMs: Map<string, number>; last: number }> {
  const pids = new Map(schedule.sets.map((s) => [s.name, s.pid]))
  const cpuMs = new Map(schedule.sets.map((s) => [s.name, 0]))
  const slices = slicesOf(schedule)
  for (const current of slices) {
    await sleep(current.start - performance.now())
    const pid = pids.get(current.set) as number
    const before = readCpuMs(pid)
    await slice(current)
    await sleep(current.end + schedule.gapMs - performance.now())
    cpuMs.set(current.set, (cpuMs.get(current.set) ?? 0) + readCpuMs(pid) - before)
  }
  return { cpuMs, last: slices[slices.length - 1]?.end ?? performance.now() }
}

function setsOf(schedule: Schedule): Map<string, ConnSet> {
  const out = new Map<string, ConnSet>()
  for (const { name } of schedule.sets) {
    const set = requireSet(name)
    if (set.writers.length === 0) throw new Error(`no writers in set ${name}`)
    out.set(name, set)
  }
  return out
}

// ------------------------------------------------------------------ open loop

interface OpenLoopState {
  base: number
  /** Due time of the set's k-th write (value base + k). */
  due: Float64Array
  sent: number
  expected: number
  received: number
  errors: number
  samples: Samples
  /** The set's own slice (0, 1, …) each write belongs to, and the latencies per slice. */
  sliceOf: Int32Array
  bySlice: Samples[]
}

/**
 * In each slice, write j is due at start + j/rate and is sent by writer j mod W of the slice's
 * set; its value identifies it. A receiver computes the latency from the due time, not the send
 * time, so a stalled sender shows up as latency (no coordinated omission).
 */
async function openLoop(job: OpenLoopJob): Promise<Record<string, OpenLoopResult>> {
  const { schedule, rate } = job
  const sets = setsOf(schedule)
  const cpu = process.cpuUsage()
  const period = 1000 / rate
  const perSlice = Math.max(1, Math.round((rate * schedule.sliceMs) / 1000))
  const states = new Map<string, OpenLoopState>()
  for (const [name, set] of sets) {
    const capacity = perSlice * schedule.cycles
    const state: OpenLoopState = {
      base: nextBase,
      due: new Float64Array(capacity),
      sent: 0,
      expected: 0,
      received: 0,
      errors: 0,
      samples: new Samples(capacity * (set.writers[0]?.groupSize ?? 1)),
      sliceOf: new Int32Array(capacity),
      bySlice: [],
    }
    nextBase += capacity + 1
    states.set(name, state)
    set.run = {
      echo(_conn, value, now) {
        const k = value - state.base
        if (k < 0 || k >= state.sent) return
        state.received++
        const latency = now - (state.due[k] as number)
        state.samples.push(latency)
        const slice = state.sliceOf[k] as number
        let bucket = state.bySlice[slice]
        if (!bucket) {
          bucket = new Samples(1024)
          state.bySlice[slice] = bucket
        }
        bucket.push(latency)
      },
      ack() {},
      pong() {},
      error() {
        state.errors++
      },
    }
  }
  try {
    const { cpuMs } = await runSlices(schedule, (slice) => {
      const set = sets.get(slice.set) as ConnSet
      const state = states.get(slice.set) as OpenLoopState
      const writers = set.writers
      const sliceNumber = Math.floor(state.sent / perSlice)
      let j = 0
      return new Promise<void>((resolve) => {
        const tick = (): void => {
          const now = performance.now()
          while (j < perSlice && slice.start + j * period <= now) {
            const k = state.sent
            const writer = writers[k % writers.length] as Conn
            state.due[k] = slice.start + j * period
            state.sliceOf[k] = sliceNumber
            state.sent++
            state.expected += writer.groupSize
            j++
            write(set, writer, `w${writer.writer}f${Math.floor(k / writers.length) % 64}`, state.base + k)
          }
          if (j < perSlice) setTimeout(tick, 1)
          else resolve()
        }
        tick()
      })
    })
    const drainUntil = performance.now() + job.drainMs
    const missing = () => [...states.values()].some((s) => s.received < s.expected)
    while (missing() && performance.now() < drainUntil) await sleep(5)
    const loadCpuMs = cpuSince(cpu)
    return Object.fromEntries(
      [...states].map(([name, state]) => [
        name,
        {
          sent: state.sent,
          targetCpuMs: cpuMs.get(name) ?? 0,
          expected: state.expected,
          received: state.received,
          latencies: state.samples.values(),
          sliceP99s: state.bySlice.map((bucket) => p99Of(bucket.values())),
          errors: state.errors,
          dropped: (sets.get(name) as ConnSet).dropped,
          cpuMs: loadCpuMs / sets.size,
        } satisfies OpenLoopResult,
      ]),
    )
  } finally {
    for (const set of sets.values()) set.run = undefined
  }
}

function p99Of(values: Float64Array): number {
  const sorted = values.sort()
  return sorted.length === 0
    ? Number.NaN
    : (sorted[Math.max(0, Math.ceil(0.99 * sorted.length) - 1)] as number)
}

// ------------------------------------------------------------------ closed loop

interface ClosedLoopState {
  base: number
  writers: { sent: number; done: number; times: Float64Array }[]
  /** The slice in progress, or undefined between this set's slices. */
  active: Slice | undefined
  measureFrom: number
  acked: number
  completed: number
  errors: number
  firstError: string | undefined
  latencies: Samples
  /** Tops every writer up to `window` outstanding writes. */
  fill(): void
}

const RING = 4096

/**
 * Writer w's n-th write has value base + n*W + w, so on the relay a writer recognises its own
 * echo. Completions arrive in send order per writer (acks follow persist batches, which settle in
 * order), so a ring of send times per writer gives each write's latency. During its slice a set's
 * writers keep `window` writes outstanding; after it they stop and let the last ones complete.
 */
async function closedLoop(job: ClosedLoopJob): Promise<Record<string, ClosedLoopResult>> {
  const { schedule } = job
  if (job.window >= RING) throw new Error(`window must be < ${RING}`)
  const sets = setsOf(schedule)
  const cpu = process.cpuUsage()
  const states = new Map<string, ClosedLoopState>()
  for (const [name, set] of sets) {
    const W = set.writers.length
    const state: ClosedLoopState = {
      base: nextBase,
      writers: set.writers.map(() => ({ sent: 0, done: 0, times: new Float64Array(RING) })),
      active: undefined,
      measureFrom: 0,
      acked: 0,
      completed: 0,
      errors: 0,
      firstError: undefined,
      latencies: new Samples(4096),
      fill() {},
    }
    states.set(name, state)
    const next = (conn: Conn): void => {
      const s = state.writers[conn.writer] as ClosedLoopState['writers'][number]
      const value = state.base + s.sent * W + conn.writer
      s.times[s.sent % RING] = performance.now()
      s.sent++
      write(set, conn, `w${conn.writer}f${s.sent % 64}`, value)
    }
    const complete = (conn: Conn, now: number): void => {
      const s = state.writers[conn.writer]
      if (!s || s.done >= s.sent) return
      const sentAt = s.times[s.done % RING] as number
      s.done++
      state.completed++
      const slice = state.active
      if (!slice) return
      if (now >= state.measureFrom && now <= slice.end) {
        state.acked++
        if (sentAt >= state.measureFrom) state.latencies.push(now - sentAt)
      }
      if (now < slice.end && s.sent - s.done < job.window) next(conn)
    }
    const relay = set.target === 'relay'
    set.run = {
      echo(conn, value) {
        if (!relay || conn.writer < 0 || value < state.base) return
        if ((value - state.base) % W === conn.writer) complete(conn, performance.now())
      },
      ack(conn, now) {
        if (!relay && conn.writer >= 0) complete(conn, now)
      },
      pong() {},
      error(frame) {
        state.errors++
        state.firstError ??= frame.subarray(13).toString('utf8')
      },
    }
    state.fill = () => {
      for (const conn of set.writers) {
        const s = state.writers[conn.writer] as ClosedLoopState['writers'][number]
        while (s.sent - s.done < job.window) next(conn)
      }
    }
  }
  try {
    const { cpuMs } = await runSlices(schedule, async (slice) => {
      const state = states.get(slice.set) as ClosedLoopState
      state.active = slice
      state.measureFrom = slice.start + job.rampMs
      state.fill()
      await sleep(slice.end - performance.now())
    })
    // Let the last writes complete so the next job starts from an idle server.
    const drainUntil = performance.now() + 5_000
    const busy = () => [...states.values()].some((st) => st.writers.some((w) => w.done < w.sent))
    while (busy() && performance.now() < drainUntil) await sleep(5)
    const loadCpuMs = cpuSince(cpu)
    const measuredSeconds = (schedule.cycles * (schedule.sliceMs - job.rampMs)) / 1000
    return Object.fromEntries(
      [...states].map(([name, state]) => [
        name,
        {
          targetCpuMs: cpuMs.get(name) ?? 0,
          acked: state.acked,
          completed: state.completed,
          seconds: measuredSeconds,
          latencies: state.latencies.values(),
          errors: state.errors,
          ...(state.firstError ? { firstError: state.firstError } : {}),
          dropped: (sets.get(name) as ConnSet).dropped,
          cpuMs: loadCpuMs / sets.size,
        } satisfies ClosedLoopResult,
      ]),
    )
  } finally {
    for (const [name, set] of sets) {
      set.run = undefined
      const state = states.get(name) as ClosedLoopState
      nextBase = Math.max(
        nextBase,
        state.base +
          Math.max(0, ...state.writers.map((w) => w.sent)) * set.writers.length +
          set.writers.length,
      )
    }
  }
}

// ------------------------------------------------------------------ pings

async function pings(job: PingJob): Promise<PingResult> {
  const set = requireSet(job.set)
  // Opening thousands of sockets leaves garbage whose full collection, on a busy machine, stalled
  // this process for 100-250 ms inside the window: collected now, before the first ping.
  ;(globalThis as { gc?: () => void }).gc?.()
  const cpu = process.cpuUsage()
  // This process's own stalls inflate the latencies it measures: reported beside them.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 })
  loopDelay.enable()
  // Whether a stall was this process's own collector, or the machine not scheduling it.
  let gcMaxMs = 0
  const gcs = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMaxMs = Math.max(gcMaxMs, entry.duration)
  })
  gcs.observe({ entryTypes: ['gc'] })
  const latencies = new Samples(set.conns.length)
  let answered = 0
  set.run = {
    echo() {},
    ack() {},
    pong(conn, now) {
      if (conn.pingAt === 0) return
      latencies.push(now - conn.pingAt)
      conn.pingAt = 0
      answered++
    },
    error() {},
  }
  const timers: ReturnType<typeof setTimeout>[] = []
  const frame = pingFrame()
  try {
    for (const conn of set.conns) {
      const at = Math.random() * job.durationMs
      timers.push(
        setTimeout(() => {
          conn.pingAt = performance.now()
          send(conn, frame)
        }, at),
      )
    }
    const until = performance.now() + job.durationMs + job.timeoutMs
    while (answered < set.conns.length && performance.now() < until) await sleep(20)
  } finally {
    for (const timer of timers) clearTimeout(timer)
    set.run = undefined
    loopDelay.disable()
    gcs.disconnect()
  }
  return {
    latencies: latencies.values(),
    missing: set.conns.length - answered,
    loopDelayMaxMs: loopDelay.max / 1e6,
    gcMaxMs,
    dropped: set.dropped,
    cpuMs: cpuSince(cpu),
  }
}
