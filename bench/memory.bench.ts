/**
 * Memory benchmark: what `npm start` costs at rest, per store. Each start is the real command,
 * `npm start -- --port 0 --host 127.0.0.1 --storage <store> --data <dir>`, in its own process tree.
 * Measured per start:
 *
 * - time to healthy: from spawning `npm start` until `GET /health` answers `healthy`, and the CPU
 *   time the process tree spent until then (user + system, children that exited included): on a
 *   shared machine the wall time mostly measures the neighbours, the CPU time the start itself;
 * - server RSS: the server process (the node process running src/cli.ts under tsx's loader),
 *   after it has idled IDLE_MS once healthy; its peak (VmHWM) over the start; and the RSS of the
 *   whole tree (npm, the tsx wrapper, the server, esbuild), for reference.
 *
 * A round gives each store a fresh data directory and starts it START_COUNT times: the first start
 * creates the store (for PGlite that runs initdb), later starts reopen it. Stores alternate order
 * between rounds so a noisy neighbour hurts all alike; medians over rounds.
 * Run: `npm run bench:memory` (BENCH_ROUNDS default 3, BENCH_IDLE_MS default 5000,
 * BENCH_STORES default `memory,embedded,pglite`). Linux only (reads /proc). Exits by itself.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const ROUNDS = positive('BENCH_ROUNDS', 3)
const IDLE_MS = positive('BENCH_IDLE_MS', 5000)
const START_COUNT = 3
const STORES = (process.env.BENCH_STORES ?? 'memory,embedded,pglite').split(',').map((s) => s.trim())
const STARTUP_TIMEOUT_MS = 120_000

function positive(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`)
  return value
}

interface StartResult {
  healthyMs: number
  /** CPU time of the whole tree until healthy (ms). */
  cpuMs: number
  serverRssMb: number
  serverPeakMb: number
  treeRssMb: number
}

interface Proc {
  pid: number
  ppid: number
  comm: string
  cmdline: string
  rssKb: number
  hwmKb: number
  /** utime + stime + cutime + cstime, in clock ticks (USER_HZ, 100 on Linux). */
  cpuTicks: number
}

async function readProc(pid: number): Promise<Proc | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ')
    // Field 2 (comm) is in parentheses and may hold spaces: parse after the last ')'.
    const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
    return {
      pid,
      ppid: Number(after[1]),
      comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
      cmdline,
      rssKb: kb('VmRSS'),
      hwmKb: kb('VmHWM'),
      cpuTicks: [11, 12, 13, 14].reduce((sum, i) => sum + Number(after[i] ?? 0), 0),
    }
  } catch {
    return undefined
  }
}

/** `root` and every descendant. */
async function processTree(root: number): Promise<Proc[]> {
  const all = (
    await Promise.all((await readdir('/proc')).filter((d) => /^\d+$/.test(d)).map((d) => readProc(Number(d))))
  ).filter((p): p is Proc => p !== undefined)
  const tree: Proc[] = []
  const wanted = new Set([root])
  for (let grew = true; grew; ) {
    grew = false
    for (const p of all) {
      if (!tree.includes(p) && (wanted.has(p.pid) || wanted.has(p.ppid))) {
        tree.push(p)
        wanted.add(p.pid)
        grew = true
      }
    }
  }
  return tree
}

/** The server: the node process running src/cli.ts itself, not the tsx wrapper that spawned it. */
function serverOf(tree: Proc[]): Proc {
  const nodes = tree.filter((p) => p.comm === 'node' && p.cmdline.includes('src/cli.ts'))
  const leaf = nodes.find((p) => !nodes.some((q) => q.ppid === p.pid))
  if (leaf === undefined) throw new Error(`no server process in ${tree.map((p) => p.cmdline).join(' | ')}`)
  return leaf
}

async function startOnce(store: string, dataDir: string): Promise<StartResult> {
  const started = performance.now()
  const child = spawn(
    'npm',
    ['start', '--silent', '--', '--port', '0', '--host', '127.0.0.1', '--storage', store, '--data', dataDir],
    {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'development', SYNCKIT_AUTH_REQUIRED: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let out = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    out += chunk.toString()
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    let port: number | undefined
    let healthyMs: number | undefined
    let cpuMs = 0
    while (healthyMs === undefined) {
      if (child.exitCode !== null) throw new Error(`npm start exited: ${out}`)
      if (performance.now() - started > STARTUP_TIMEOUT_MS) throw new Error(`not healthy in time: ${out}`)
      port ??= Number(/ws:\/\/127\.0\.0\.1:(\d+)\/ws/.exec(out)?.[1]) || undefined
      if (port !== undefined) {
        const health = await fetch(`http://127.0.0.1:${port}/health`, {
          signal: AbortSignal.timeout(2000),
        }).then(
          async (r) => (r.ok ? ((await r.json()) as { status?: string }).status : undefined),
          () => undefined,
        )
        if (health === 'healthy') {
          healthyMs = performance.now() - started
          const ticks = (await processTree(child.pid as number)).reduce((sum, p) => sum + p.cpuTicks, 0)
          cpuMs = ticks * 10
        }
      }
      if (healthyMs === undefined) await sleep(10)
    }
    await sleep(IDLE_MS)
    const tree = await processTree(child.pid as number)
    const server = serverOf(tree)
    const result = {
      healthyMs,
      cpuMs,
      serverRssMb: server.rssKb / 1024,
      serverPeakMb: server.hwmKb / 1024,
      treeRssMb: tree.reduce((sum, p) => sum + p.rssKb, 0) / 1024,
    }
    process.kill(server.pid, 'SIGTERM')
    await within(exited, 30_000)
    return result
  } finally {
    await stop(child, exited)
  }
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  for (const p of await processTree(child.pid as number)) {
    try {
      process.kill(p.pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
  await within(exited, 10_000).catch(() => {})
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<void>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

const results = new Map<string, { first: StartResult[]; later: StartResult[] }>(
  STORES.map((s) => [s, { first: [], later: [] }]),
)
const root = await mkdtemp(join(tmpdir(), 'synckit-bench-memory-'))
try {
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? STORES : [...STORES].reverse()
    for (const store of order) {
      const dataDir = join(root, `${store}-${round}`)
      for (let n = 0; n < START_COUNT; n++) {
        const result = await startOnce(store, dataDir)
        const bucket = results.get(store) as { first: StartResult[]; later: StartResult[] }
        ;(n === 0 ? bucket.first : bucket.later).push(result)
        console.log(
          `round ${round + 1} ${store.padEnd(8)} ${n === 0 ? 'first' : 'later'}: healthy in ${Math.round(result.healthyMs)} ms (CPU ${result.cpuMs} ms), ` +
            `server RSS ${result.serverRssMb.toFixed(0)} MB (peak ${result.serverPeakMb.toFixed(0)}), tree ${result.treeRssMb.toFixed(0)} MB`,
        )
      }
      await rm(dataDir, { recursive: true, force: true })
    }
  }
} finally {
  await rm(root, { recursive: true, force: true })
}

const row = (runs: StartResult[]) => ({
  'healthy ms': Math.round(median(runs.map((r) => r.healthyMs))),
  'CPU ms to healthy': Math.round(median(runs.map((r) => r.cpuMs))),
  'server RSS MB': Math.round(median(runs.map((r) => r.serverRssMb))),
  'server peak MB': Math.round(median(runs.map((r) => r.serverPeakMb))),
  'tree RSS MB': Math.round(median(runs.map((r) => r.treeRssMb))),
})
const table: Record<string, ReturnType<typeof row>> = {}
for (const [store, { first, later }] of results) {
  table[`${store}, first start`] = row(first)
  table[`${store}, later starts`] = row(later)
}
console.log(
  `\nnpm start at rest (idle ${IDLE_MS} ms after healthy), medians of ${ROUNDS} rounds ` +
    `(${ROUNDS} first starts, ${ROUNDS * (START_COUNT - 1)} later starts per store), node ${process.version}`,
)
console.table(table)
console.log(
  JSON.stringify({ bench: 'memory', node: process.version, idleMs: IDLE_MS, rounds: ROUNDS, results: table }),
)
