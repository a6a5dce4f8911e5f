/**
 * The e2e scenarios. Each holds connections to every target it compares at once and measures
 * them in short interleaved slices (relay, memory, embedded, then rotated, …): within a round
 * the relay and the servers see the same machine (other processes' bursts, thermal state), and
 * the report compares them round by round.
 */
import type { WriteShape } from './frames.js'
import type { ClosedLoopResult, Group, OpenLoopResult, Schedule } from './jobs.js'
import { record, type Sample, type Series } from './series.js'
import { concat, median, summarize } from './stats.js'
import type { Target } from './targets.js'
import type { AddressPool, LoadProcess } from './workers.js'

export interface Context {
  targets: Map<string, Target>
  addresses: AddressPool
  shape: WriteShape
  rounds: number
  /** Load process `i`, forked on first use. */
  worker(i: number): LoadProcess
  log(line: string): void
}

/** Per round, `cycles` slices of `sliceMs` per target, interleaved (see `Schedule`). */
export interface Slicing {
  cycles: number
  sliceMs: number
  gapMs: number
}

export interface HotConfig {
  writers: number
  readers: number
  rates: number[]
  open: Slicing
  drainMs: number
  closed: Slicing
  /** Closed loop: outstanding writes per writer, and the uncounted start of each slice. */
  window: number
  rampMs: number
}

export interface ManyConfig {
  documents: number
  clientsPerDocument: number
  writesPerClientPerSecond: number
  open: Slicing
  drainMs: number
  workers: number
}

export interface DurableConfig {
  writers: number
  readers: number
  window: number
  closed: Slicing
  rampMs: number
}

export interface IdleConfig {
  steps: number[]
  settleMs: number
  workers: number
  connectionsPerDocument: number
}

export interface ConnectionsConfig {
  connections: number
  perWorker: number
  connectionsPerDocument: number
  pingWindowMs: number
  settleMs: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let documentSerial = 0
/** Fresh document names per run, so a run never reads what an earlier one wrote. */
function documentName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${documentSerial++}`
}

function target(ctx: Context, name: string): Target {
  const found = ctx.targets.get(name)
  if (!found) throw new Error(`target ${name} is not running`)
  return found
}

function schedule(ctx: Context, prefix: string, names: readonly string[], slicing: Slicing): Schedule {
  return {
    sets: names.map((name) => ({ name: `${prefix}-${name}`, pid: target(ctx, name).pid })),
    cycles: slicing.cycles,
    sliceMs: slicing.sliceMs,
    gapMs: slicing.gapMs,
    // Every load process of the job switches targets on the same wall-clock boundaries.
    startAt: Date.now() + 100,
  }
}

async function openSets(
  ctx: Context,
  worker: LoadProcess,
  prefix: string,
  names: readonly string[],
  groups: (name: string) => Group[],
): Promise<void> {
  for (const name of names) {
    const t = target(ctx, name)
    const opened = await worker.open({
      set: `${prefix}-${name}`,
      url: t.url,
      target: t.kind,
      groups: groups(name),
      localAddress: ctx.addresses.take(),
      shape: ctx.shape,
      concurrency: 50,
    })
    if (opened.failed > 0)
      throw new Error(`${name}: ${opened.failed} connections failed: ${opened.firstError}`)
  }
}

function openLoopSample(results: OpenLoopResult[]): Sample {
  const latency = summarize(concat(results.map((r) => r.latencies)))
  const sum = (pick: (r: OpenLoopResult) => number) => results.reduce((n, r) => n + pick(r), 0)
  const sent = sum((r) => r.sent)
  const expected = sum((r) => r.expected)
  // Each load process reads the target's CPU over the same slices: one reading, not their sum.
  const targetCpuMs = Math.max(...results.map((r) => r.targetCpuMs))
  return {
    p50: latency.p50,
    p99: latency.p99,
    p999: latency.p999,
    /** Median over slices of each slice's own p99 (see `OpenLoopResult.sliceP99s`). */
    p99Slices: median(results.flatMap((r) => r.sliceP99s)),
    max: latency.max,
    samples: latency.samples,
    /** Share of the expected echoes that arrived (1 = none lost or coalesced). */
    delivered: expected > 0 ? sum((r) => r.received) / expected : Number.NaN,
    serverCpuUsPerWrite: sent > 0 ? (targetCpuMs * 1000) / sent : Number.NaN,
    errors: sum((r) => r.errors),
    dropped: sum((r) => r.dropped),
  }
}

function closedLoopSample(result: ClosedLoopResult): Sample {
  const latency = summarize(result.latencies)
  return {
    writesPerSecond: result.acked / result.seconds,
    ackP50: latency.p50,
    ackP99: latency.p99,
    serverCpuUsPerWrite: result.completed > 0 ? (result.targetCpuMs * 1000) / result.completed : Number.NaN,
    errors: result.errors,
    dropped: result.dropped,
  }
}

/** Per round: one interleaved open-loop job (on every load process at once), one sample per target. */
async function openLoopRound(
  ctx: Context,
  workers: readonly LoadProcess[],
  prefix: string,
  names: readonly string[],
  rate: number,
  slicing: Slicing,
  drainMs: number,
): Promise<Map<string, Sample>> {
  const plan = schedule(ctx, prefix, names, slicing)
  const perWorker = await Promise.all(
    workers.map((worker) => worker.openLoop({ schedule: plan, rate: rate / workers.length, drainMs })),
  )
  return new Map(
    names.map((name) => [
      name,
      openLoopSample(perWorker.map((r) => r[`${prefix}-${name}`] as OpenLoopResult)),
    ]),
  )
}

async function closedLoopRound(
  ctx: Context,
  worker: LoadProcess,
  prefix: string,
  names: readonly string[],
  window: number,
  slicing: Slicing,
  rampMs: number,
): Promise<Map<string, Sample>> {
  const results = await worker.closedLoop({ schedule: schedule(ctx, prefix, names, slicing), window, rampMs })
  return new Map(
    names.map((name) => [name, closedLoopSample(results[`${prefix}-${name}`] as ClosedLoopResult)]),
  )
}

function recordOpen(ctx: Context, series: Series, samples: Map<string, Sample>, label: string): void {
  for (const [name, sample] of samples) {
    record(series, name, sample)
    ctx.log(
      `${label}  ${name.padEnd(9)} p50 ${fmt(sample.p50)}  p99 ${fmt(sample.p99)}  p99.9 ${fmt(sample.p999)} ms  CPU ${fmt(sample.serverCpuUsPerWrite, 0)} us/write`,
    )
  }
}

function recordClosed(ctx: Context, series: Series, samples: Map<string, Sample>, label: string): void {
  for (const [name, sample] of samples) {
    record(series, name, sample)
    ctx.log(
      `${label}  ${name.padEnd(9)} ${Math.round(sample.writesPerSecond ?? 0)} acked writes/s  ack p99 ${fmt(sample.ackP99)} ms`,
    )
  }
}

/** A short round of everything, not recorded: JIT, buffers, the store's first writes. */
const warmup = (slicing: Slicing): Slicing => ({ ...slicing, cycles: 1 })

const describeSlicing = (s: Slicing) =>
  `${s.cycles} slices of ${s.sliceMs} ms per target and round, interleaved (${s.gapMs} ms gaps)`

// ------------------------------------------------------------------ hot document

export interface HotResult {
  setup: string
  openLoop: Record<string, Series>
  closedLoop: Series
}

/** 4 writers and 16 subscribers on one document: open-loop latency at fixed rates, then closed loop. */
export async function hotDocument(
  ctx: Context,
  names: readonly string[],
  config: HotConfig,
): Promise<HotResult> {
  const worker = ctx.worker(0)
  const documents = new Map(names.map((name) => [name, documentName('hot')]))
  await openSets(ctx, worker, 'hot', names, (name) => [
    { documentId: documents.get(name) as string, writers: config.writers, readers: config.readers },
  ])
  const openLoop: Record<string, Series> = Object.fromEntries(config.rates.map((rate) => [rate, {}]))
  const closedLoop: Series = {}
  const top = config.rates[config.rates.length - 1] ?? 1000
  try {
    await closedLoopRound(ctx, worker, 'hot', names, config.window, warmup(config.closed), config.rampMs)
    await openLoopRound(ctx, [worker], 'hot', names, top, warmup(config.open), config.drainMs)
    for (let round = 0; round < ctx.rounds; round++) {
      for (const rate of config.rates) {
        const samples = await openLoopRound(ctx, [worker], 'hot', names, rate, config.open, config.drainMs)
        recordOpen(ctx, openLoop[rate] as Series, samples, `hot document  round ${round + 1}  ${rate}/s`)
      }
      const samples = await closedLoopRound(
        ctx,
        worker,
        'hot',
        names,
        config.window,
        config.closed,
        config.rampMs,
      )
      recordClosed(ctx, closedLoop, samples, `hot document  round ${round + 1}  closed loop`)
    }
  } finally {
    for (const name of names) await worker.close(`hot-${name}`)
  }
  return {
    setup: `${config.writers} writers + ${config.readers} subscribers on one document; open loop: ${describeSlicing(config.open)}; closed loop: window ${config.window} per writer, ${describeSlicing(config.closed)}, first ${config.rampMs} ms of a slice not counted`,
    openLoop,
    closedLoop,
  }
}

// ------------------------------------------------------------------ many documents

export interface ManyResult {
  setup: string
  openLoop: Series
}

/** 1,000 documents with 2 clients each, every client writing once a second: fan-in and spread. */
export async function manyDocuments(
  ctx: Context,
  names: readonly string[],
  config: ManyConfig,
): Promise<ManyResult> {
  const workers = Array.from({ length: config.workers }, (_, i) => ctx.worker(i))
  const perWorker = Math.ceil(config.documents / workers.length)
  const rate = config.documents * config.clientsPerDocument * config.writesPerClientPerSecond
  for (const [i, worker] of workers.entries()) {
    const count = Math.min(perWorker, config.documents - i * perWorker)
    await openSets(ctx, worker, 'many', names, () => {
      const prefix = documentName(`many${i}`)
      return Array.from({ length: count }, (_, d) => ({
        documentId: `${prefix}-${d}`,
        writers: config.clientsPerDocument,
        readers: 0,
      }))
    })
  }
  const series: Series = {}
  try {
    await openLoopRound(ctx, workers, 'many', names, rate, warmup(config.open), config.drainMs)
    for (let round = 0; round < ctx.rounds; round++) {
      const samples = await openLoopRound(ctx, workers, 'many', names, rate, config.open, config.drainMs)
      recordOpen(ctx, series, samples, `many documents  round ${round + 1}`)
    }
  } finally {
    for (const worker of workers) for (const name of names) await worker.close(`many-${name}`)
  }
  return {
    setup: `${config.documents} documents x ${config.clientsPerDocument} clients, each client writing ${config.writesPerClientPerSecond}/s (${rate} writes/s in all) from ${workers.length} load processes; ${describeSlicing(config.open)}`,
    openLoop: series,
  }
}

// ------------------------------------------------------------------ durable acked writes

export interface DurableResult {
  setup: string
  closedLoop: Series
}

/** Closed loop on each store; an ack is sent only once the store committed (durable acks). */
export async function durableWrites(
  ctx: Context,
  names: readonly string[],
  config: DurableConfig,
): Promise<DurableResult> {
  const worker = ctx.worker(0)
  await openSets(ctx, worker, 'durable', names, () => [
    { documentId: documentName('durable'), writers: config.writers, readers: config.readers },
  ])
  const series: Series = {}
  try {
    await closedLoopRound(ctx, worker, 'durable', names, config.window, warmup(config.closed), config.rampMs)
    for (let round = 0; round < ctx.rounds; round++) {
      const samples = await closedLoopRound(
        ctx,
        worker,
        'durable',
        names,
        config.window,
        config.closed,
        config.rampMs,
      )
      recordClosed(ctx, series, samples, `durable writes  round ${round + 1}`)
    }
  } finally {
    for (const name of names) await worker.close(`durable-${name}`)
  }
  return {
    setup: `${config.writers} writers (window ${config.window} each) + ${config.readers} subscribers on one document; ${describeSlicing(config.closed)}, first ${config.rampMs} ms of a slice not counted`,
    closedLoop: series,
  }
}

// ------------------------------------------------------------------ idle memory

export interface IdleResult {
  setup: string
  /** target -> connections -> bytes of RSS per connection (above the RSS before connecting). */
  bytesPerConnection: Record<string, Record<string, number>>
  rss: Record<string, Record<string, number>>
}

/** RSS of each target before and after opening idle subscribed connections, one target at a time. */
export async function idleMemory(
  ctx: Context,
  names: readonly string[],
  config: IdleConfig,
): Promise<IdleResult> {
  const bytesPerConnection: Record<string, Record<string, number>> = {}
  const rss: Record<string, Record<string, number>> = {}
  const workers = Array.from({ length: config.workers }, (_, i) => ctx.worker(i))
  for (const name of names) {
    const t = target(ctx, name)
    await sleep(config.settleMs)
    const before = t.rss()
    rss[name] = { before }
    bytesPerConnection[name] = {}
    const sets: { worker: LoadProcess; set: string }[] = []
    let open = 0
    try {
      for (const step of config.steps) {
        const adding = step - open
        const perWorker = Math.ceil(adding / workers.length)
        await Promise.all(
          workers.map(async (worker, i) => {
            const count = Math.max(0, Math.min(perWorker, adding - i * perWorker))
            if (count === 0) return
            const set = `idle-${name}-${step}-${i}`
            sets.push({ worker, set })
            const opened = await worker.open({
              set,
              url: t.url,
              target: t.kind,
              groups: groupsOf(count, config.connectionsPerDocument, documentName(`idle${i}`)),
              localAddress: ctx.addresses.take(),
              shape: ctx.shape,
              concurrency: 100,
            })
            if (opened.failed > 0) throw new Error(`${name}: ${opened.failed} failed: ${opened.firstError}`)
          }),
        )
        open = step
        await sleep(config.settleMs)
        const now = t.rss()
        ;(rss[name] as Record<string, number>)[step] = now
        ;(bytesPerConnection[name] as Record<string, number>)[step] = (now - before) / step
        ctx.log(
          `idle memory  ${name.padEnd(9)} ${step} connections: RSS ${mb(now)} (before ${mb(before)}), ${fmt((now - before) / step / 1024, 1)} KB per connection`,
        )
      }
    } finally {
      for (const { worker, set } of sets) await worker.close(set)
    }
  }
  return {
    setup: `idle subscribed connections (${config.connectionsPerDocument} per document; the relay: per room), RSS delta / connections, ${config.settleMs} ms settle`,
    bytesPerConnection,
    rss,
  }
}

function groupsOf(count: number, perDocument: number, prefix: string): Group[] {
  const groups: Group[] = []
  for (let n = 0, d = 0; n < count; n += perDocument, d++) {
    groups.push({ documentId: `${prefix}-${d}`, writers: 0, readers: Math.min(perDocument, count - n) })
  }
  return groups
}

// ------------------------------------------------------------------ connections at the limit

export interface ConnectionsResult {
  setup: string
  connections: number
  opened: number
  connectSeconds: number
  rssBefore: number
  rssAfter: number
  bytesPerConnection: number
  ping: { p50: number; p99: number; p999: number; max: number; samples: number; missing: number }
  dropped: number
  serverCpuPercentDuringPings: number
  /** Longest stall of a load process during the window: latency the clients added themselves. */
  loadLoopDelayMaxMs: number
  /** Longest GC pause of a load process in the window: the part of its stalls that was its own. */
  loadGcMaxMs: number
}

/** One server process, N idle subscribed connections from several load processes, SDK pings timed. */
export async function connectionsAtLimit(
  ctx: Context,
  name: string,
  config: ConnectionsConfig,
): Promise<ConnectionsResult> {
  const t = target(ctx, name)
  const workerCount = Math.ceil(config.connections / config.perWorker)
  const workers = Array.from({ length: workerCount }, (_, i) => ctx.worker(i))
  await sleep(config.settleMs)
  const rssBefore = t.rss()
  const started = performance.now()
  const perWorker = Math.ceil(config.connections / workerCount)
  let opened = 0
  try {
    await Promise.all(
      workers.map(async (worker, i) => {
        const count = Math.min(perWorker, config.connections - i * perWorker)
        const result = await worker.open(
          {
            set: `limit-${i}`,
            url: t.url,
            target: t.kind,
            groups: groupsOf(count, config.connectionsPerDocument, documentName(`limit${i}`)),
            localAddress: ctx.addresses.take(),
            shape: ctx.shape,
            concurrency: 100,
          },
          600_000,
        )
        opened += result.opened
        if (result.failed > 0)
          ctx.log(`load process ${i}: ${result.failed} connections failed: ${result.firstError}`)
      }),
    )
    const connectSeconds = (performance.now() - started) / 1000
    ctx.log(`${opened} connections open in ${connectSeconds.toFixed(1)} s`)
    await sleep(config.settleMs)
    const rssAfter = t.rss()
    ctx.log(
      `RSS ${mb(rssBefore)} -> ${mb(rssAfter)}: ${fmt((rssAfter - rssBefore) / opened / 1024, 2)} KB per connection`,
    )
    const cpuBefore = t.cpuMs()
    const pingStarted = performance.now()
    const results = await Promise.all(
      workers.map((worker, i) =>
        worker.pings({ set: `limit-${i}`, durationMs: config.pingWindowMs, timeoutMs: 5_000 }),
      ),
    )
    const cpuPercent = ((t.cpuMs() - cpuBefore) / (performance.now() - pingStarted)) * 100
    const latency = summarize(concat(results.map((r) => r.latencies)))
    const missing = results.reduce((n, r) => n + r.missing, 0)
    const dropped = results.reduce((n, r) => n + r.dropped, 0)
    ctx.log(
      `pings: p50 ${fmt(latency.p50)}  p99 ${fmt(latency.p99)}  p99.9 ${fmt(latency.p999)}  max ${fmt(latency.max)} ms, ${missing} unanswered, ${dropped} dropped`,
    )
    return {
      setup: `${config.connections} idle connections subscribed ${config.connectionsPerDocument} per document from ${workerCount} load processes (one source address each); each sends one SDK ping at a random moment of a ${config.pingWindowMs / 1000} s window`,
      connections: config.connections,
      opened,
      connectSeconds,
      rssBefore,
      rssAfter,
      bytesPerConnection: (rssAfter - rssBefore) / Math.max(1, opened),
      ping: { ...latency, missing },
      dropped,
      serverCpuPercentDuringPings: cpuPercent,
      loadLoopDelayMaxMs: Math.max(...results.map((r) => r.loopDelayMaxMs)),
      loadGcMaxMs: Math.max(...results.map((r) => r.gcMaxMs)),
    }
  } finally {
    await Promise.all(workers.map((worker, i) => worker.close(`limit-${i}`).catch(() => {})))
  }
}

export function fmt(value: number | undefined, digits = 2): string {
  return value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits)
}

export function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`
}
