/**
 * `npm run bench:e2e`: the end-to-end benchmark. The relay and the server (`src/cli.ts`, as
 * `npm start` runs it, with each store) run as processes of their own; load processes drive them
 * over WebSockets on 127.0.0.1 with SDK-shaped binary frames. Prints a report and writes a JSON
 * file (see docs/benchmarks.md, "End to end").
 *
 *   npm run bench:e2e                          full run, under 3 minutes
 *   npm run bench:e2e -- --smoke               ~5 s sanity run (CI): relay and memory only
 *   npm run bench:e2e -- --connections 18000   one server holding N idle connections, pings timed
 *
 * Other flags: --rounds N, --only hot,many,durable,idle, --targets relay,memory,embedded,postgres,
 * --store memory|embedded (for --connections), --shape delta|delta_batch, --out FILE, --cpu-prof
 * (writes .cpuprofile files of the servers to .tmp/bench-e2e/profiles).
 */
import { execSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { DEFAULT_POSTGRES_URL, tcpReachable } from '../../test/helpers/services.js'
import type { WriteShape } from './frames.js'
import { type Results, renderReport } from './report.js'
import {
  type ConnectionsConfig,
  type Context,
  connectionsAtLimit,
  type DurableConfig,
  durableWrites,
  type HotConfig,
  hotDocument,
  type IdleConfig,
  idleMemory,
  type ManyConfig,
  manyDocuments,
} from './scenarios.js'
import { type Series, summarizeSeries } from './series.js'
import { buildBaseline, launch, type StoreKind, type Target, type TargetSpec } from './targets.js'
import { AddressPool, LoadProcess } from './workers.js'

interface Plan {
  rounds: number
  targets: string[]
  scenarios: Set<string>
  hot: HotConfig
  many: ManyConfig
  durable: DurableConfig
  idle: IdleConfig
  /** Idle memory on fresh processes (see below); the smoke run reuses the running ones. */
  freshIdleTargets: boolean
  deadlineMs: number
}

const FULL: Plan = {
  rounds: 3,
  targets: ['relay', 'memory', 'embedded', 'postgres'],
  scenarios: new Set(['hot', 'many', 'durable', 'idle']),
  hot: {
    writers: 4,
    readers: 16,
    rates: [500, 1000, 2000],
    open: { cycles: 5, sliceMs: 250, gapMs: 50 },
    drainMs: 1000,
    closed: { cycles: 4, sliceMs: 300, gapMs: 100 },
    window: 16,
    rampMs: 50,
  },
  many: {
    documents: 1000,
    clientsPerDocument: 2,
    writesPerClientPerSecond: 1,
    open: { cycles: 3, sliceMs: 600, gapMs: 100 },
    drainMs: 1000,
    workers: 2,
  },
  durable: {
    writers: 4,
    readers: 4,
    window: 32,
    closed: { cycles: 4, sliceMs: 300, gapMs: 100 },
    rampMs: 50,
  },
  idle: { steps: [1000, 10_000], settleMs: 1000, workers: 2, connectionsPerDocument: 10 },
  freshIdleTargets: true,
  deadlineMs: 330_000,
}

const SMOKE: Plan = {
  rounds: 1,
  targets: ['relay', 'memory'],
  scenarios: new Set(['hot', 'many', 'durable', 'idle']),
  hot: {
    writers: 4,
    readers: 16,
    rates: [1000],
    open: { cycles: 1, sliceMs: 300, gapMs: 50 },
    // Waits only as long as echoes are missing: generous, so a busy CI machine loses none.
    drainMs: 5000,
    closed: { cycles: 1, sliceMs: 300, gapMs: 50 },
    window: 16,
    rampMs: 50,
  },
  many: {
    documents: 50,
    clientsPerDocument: 2,
    writesPerClientPerSecond: 2,
    open: { cycles: 1, sliceMs: 300, gapMs: 50 },
    drainMs: 5000,
    workers: 1,
  },
  durable: { writers: 4, readers: 4, window: 32, closed: { cycles: 1, sliceMs: 300, gapMs: 50 }, rampMs: 50 },
  idle: { steps: [200], settleMs: 200, workers: 1, connectionsPerDocument: 10 },
  freshIdleTargets: false,
  deadlineMs: 90_000,
}

/** Server heartbeat interval in the connections scenario (the CLI's default is 30 s). */
const HEARTBEAT_MS = 10_000

/** Which targets each scenario compares (when they run). */
const SCENARIO_TARGETS: Record<string, string[]> = {
  hot: ['relay', 'memory', 'embedded'],
  many: ['relay', 'memory', 'embedded'],
  durable: ['relay', 'memory', 'embedded', 'postgres'],
  idle: ['relay', 'memory'],
}

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    connections: { type: 'string' },
    store: { type: 'string', default: 'memory' },
    rounds: { type: 'string' },
    only: { type: 'string' },
    targets: { type: 'string' },
    shape: { type: 'string', default: 'delta' },
    out: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    baseline: { type: 'string' },
  },
})

const postgresUrl = process.env.DATABASE_URL ?? DEFAULT_POSTGRES_URL
const shape = args.shape as WriteShape
if (shape !== 'delta' && shape !== 'delta_batch') fail('--shape must be delta or delta_batch')

const running = new Map<string, Target>()
const workers: LoadProcess[] = []
const started = performance.now()
const log = (line: string): void =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`)

async function main(): Promise<void> {
  const connections =
    args.connections === undefined ? undefined : positiveInt('--connections', args.connections)
  const plan = args.smoke ? SMOKE : FULL
  if (args.rounds !== undefined) plan.rounds = positiveInt('--rounds', args.rounds)
  if (args.only !== undefined) plan.scenarios = new Set(args.only.split(','))
  if (args.targets !== undefined) plan.targets = args.targets.split(',')
  const deadlineMs = connections === undefined ? plan.deadlineMs : 900_000
  const watchdog = setTimeout(() => {
    console.error(`bench:e2e: still running after ${deadlineMs / 1000} s, giving up`)
    void shutdown().finally(() => process.exit(2))
  }, deadlineMs)
  watchdog.unref()

  const meta: Record<string, unknown> = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    command: `bench:e2e ${process.argv.slice(2).join(' ')}`.trim(),
    node: process.version,
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}`,
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    loadBefore: loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    rounds: plan.rounds,
    shape,
    mode: connections !== undefined ? 'connections' : args.smoke ? 'smoke' : 'full',
  }
  const results: Results = { meta }
  const ctx: Context = {
    targets: running,
    addresses: new AddressPool(),
    shape,
    rounds: plan.rounds,
    worker(i) {
      while (workers.length <= i) workers.push(new LoadProcess(`load-${workers.length}`))
      return workers[i] as LoadProcess
    },
    log,
  }
  const profileDir = args['cpu-prof'] ? resolve('.tmp/bench-e2e/profiles') : undefined
  if (profileDir) mkdirSync(profileDir, { recursive: true })

  if (connections !== undefined) {
    const store = args.store as StoreKind
    const name = store
    // A heartbeat sweep of every connection is sure to fall inside the ping window (30 s by default).
    await startTargets([{ name, kind: 'server', store }], profileDir, {
      WS_HEARTBEAT_INTERVAL: String(HEARTBEAT_MS),
    })
    meta.heartbeatIntervalMs = HEARTBEAT_MS
    meta.store = store
    const config: ConnectionsConfig = {
      connections,
      perWorker: 3000,
      connectionsPerDocument: 10,
      pingWindowMs: 15_000,
      settleMs: 2000,
    }
    results.connections = await connectionsAtLimit(ctx, name, config)
  } else {
    const wanted = new Set([...plan.scenarios].flatMap((s) => SCENARIO_TARGETS[s] ?? []))
    const names = plan.targets.filter((t) => wanted.has(storeOf(t)))
    if (args.baseline !== undefined) {
      // Each server target also runs as built from the baseline commit: before/after in one run.
      baselineCli = buildBaseline(args.baseline, process.cwd())
      meta.baseline = args.baseline
      names.push(...names.filter((n) => n !== 'relay').map((n) => `${n}@base`))
    }
    if (
      names.includes('postgres') &&
      (await tcpReachable(new URL(postgresUrl).hostname, Number(new URL(postgresUrl).port || 5432), 1000)) !==
        undefined
    ) {
      log(`Postgres not reachable at ${postgresUrl}: the postgres column is left out`)
      meta.postgres = 'not reachable'
      names.splice(names.indexOf('postgres'), 1)
    }
    const among = (scenario: string) => names.filter((n) => SCENARIO_TARGETS[scenario]?.includes(storeOf(n)))
    await startTargets(
      specsOf(
        names.filter((n) =>
          [...plan.scenarios].some((s) => (s !== 'idle' || !plan.freshIdleTargets) && among(s).includes(n)),
        ),
      ),
      profileDir,
    )
    if (plan.scenarios.has('hot')) results.hotDocument = await hotDocument(ctx, among('hot'), plan.hot)
    if (plan.scenarios.has('many')) results.manyDocuments = await manyDocuments(ctx, among('many'), plan.many)
    if (plan.scenarios.has('durable'))
      results.durableWrites = await durableWrites(ctx, among('durable'), plan.durable)
    if (plan.scenarios.has('idle')) {
      // Fresh processes: after the load above a server's heap shrinks while connections are
      // added, which would hide their cost. Nothing else runs meanwhile.
      const idle = among('idle')
      if (plan.freshIdleTargets) {
        await shutdown()
        await startTargets(specsOf(idle), profileDir)
      }
      results.idleMemory = await idleMemory(ctx, idle, plan.idle)
    }
  }
  meta.loadAfter = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')
  meta.durationSeconds = Math.round((performance.now() - started) / 1000)
  await shutdown()
  console.log(`\n${renderReport(results)}`)
  const out = resolve(
    args.out ??
      (connections !== undefined
        ? 'bench/results/e2e-connections.json'
        : args.smoke
          ? '.tmp/bench-e2e/smoke.json'
          : 'bench/results/e2e.json'),
  )
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, `${JSON.stringify(toJson(results), null, 2)}\n`)
  console.log(`\nJSON: ${out}`)
}

let baselineCli: string | undefined

/** `memory@base` is the `memory` store on the baseline build. */
const storeOf = (name: string) => name.replace(/@base$/, '')

function specsOf(names: readonly string[]): TargetSpec[] {
  return names.map((name): TargetSpec => {
    if (name === 'relay') return { name, kind: 'relay' }
    const spec: TargetSpec = { name, kind: 'server', store: storeOf(name) as StoreKind }
    if (name.endsWith('@base')) {
      if (!baselineCli) throw new Error('no baseline build')
      spec.cli = baselineCli
    }
    return spec
  })
}

async function startTargets(
  specs: TargetSpec[],
  cpuProfileDir: string | undefined,
  env?: Record<string, string>,
): Promise<void> {
  if (specs.length === 0) return
  log(`starting ${specs.map((s) => s.name).join(', ')}`)
  const launched = await Promise.allSettled(
    specs.map((spec) =>
      launch(spec, { postgresUrl, ...(cpuProfileDir ? { cpuProfileDir } : {}), ...(env ? { env } : {}) }),
    ),
  )
  for (const outcome of launched)
    if (outcome.status === 'fulfilled') running.set(outcome.value.name, outcome.value)
  const failed = launched.find((o) => o.status === 'rejected')
  if (failed) throw (failed as PromiseRejectedResult).reason
  log(`started in ${((performance.now() - started) / 1000).toFixed(1)} s`)
}

async function shutdown(): Promise<void> {
  for (const worker of workers.splice(0)) worker.stop()
  await Promise.all([...running.values()].map((t) => t.stop().catch(() => {})))
  running.clear()
}

/** Series become `{median, ratioToRelay, rounds}` per target. */
function toJson(value: unknown): unknown {
  if (Array.isArray(value) || value === null || typeof value !== 'object') return value
  const entries = Object.entries(value as Record<string, unknown>)
  const isSeries =
    entries.length > 0 &&
    entries.every(([, v]) => Array.isArray(v) && v.every((s) => typeof s === 'object' && s !== null))
  if (isSeries) return summarizeSeries(value as Series)
  return Object.fromEntries(entries.map(([k, v]) => [k, toJson(v)]))
}

function gitCommit(): string {
  try {
    const commit = execSync('git rev-parse --short HEAD', {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
    const dirty = execSync('git status --porcelain --untracked-files=no', {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
    return dirty ? `${commit}+changes` : commit
  } catch {
    return 'unknown'
  }
}

function positiveInt(name: string, value: string): number {
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 1) fail(`${name} must be a positive integer`)
  return n
}

function fail(message: string): never {
  console.error(`bench:e2e: ${message}`)
  process.exit(1)
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    void shutdown().finally(() => process.exit(130))
  })
}

main().catch(async (error: unknown) => {
  console.error('bench:e2e failed:', error)
  await shutdown()
  process.exit(1)
})
