/**
 * Where PGlite's memory goes, and how far its own settings bring it down: each variant opens
 * PGlite (no server) in a child process, on a new data directory (initdb) and again on the same
 * directory, writes 200 rows, idles 1.5 s after a GC, and reports the child's RSS, peak (VmHWM),
 * V8 external memory (the WebAssembly heaps) and open time. Medians of BENCH_ROUNDS (default 3).
 * Run: `npm run bench:pglite-settings`. Linux only (reads /proc). Exits by itself.
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** PGlite's own start parameters (dist: defaultStartParams), to which the variants add settings. */
const DEFAULT_START = [
  '--single',
  '-F',
  '-O',
  '-j',
  ...['-c', 'search_path=public', '-c', 'exit_on_error=false', '-c', 'log_checkpoints=false'],
  ...[
    '-c',
    'max_worker_processes=0',
    '-c',
    'max_parallel_workers=0',
    '-c',
    'max_parallel_workers_per_gather=0',
  ],
  ...['-c', 'io_method=sync', '-c', 'max_parallel_maintenance_workers=0'],
]
const VARIANTS: Record<string, string[] | undefined> = {
  'defaults (shared_buffers=128MB)': undefined,
  'shared_buffers=16MB': [...DEFAULT_START, '-c', 'shared_buffers=16MB'],
  'shared_buffers=1MB, wal_buffers=64kB, work_mem=1MB': [
    ...DEFAULT_START,
    ...['-c', 'shared_buffers=1MB', '-c', 'wal_buffers=64kB', '-c', 'work_mem=1MB'],
  ],
}

interface Sample {
  openMs: number
  rssMb: number
  peakMb: number
  externalMb: number
}

async function child(dataDir: string, startParams: string[] | undefined): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite')
  const t = performance.now()
  const db = await PGlite.create(dataDir, startParams === undefined ? {} : { startParams })
  const openMs = performance.now() - t
  await db.query('create table if not exists t (k text primary key, v jsonb)')
  for (let i = 0; i < 200; i++) {
    await db.query('insert into t values ($1, $2) on conflict (k) do update set v = excluded.v', [
      `k${i}`,
      `{"i":${i}}`,
    ])
  }
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  await new Promise((resolve) => setTimeout(resolve, 1500))
  const status = await readFile('/proc/self/status', 'utf8')
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
  const sample: Sample = {
    openMs,
    rssMb: kb('VmRSS') / 1024,
    peakMb: kb('VmHWM') / 1024,
    externalMb: process.memoryUsage().external / 1048576,
  }
  await db.close()
  process.stdout.write(JSON.stringify(sample))
}

function run(dataDir: string, startParams: string[] | undefined): Sample {
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', fileURLToPath(import.meta.url), '--child', dataDir, JSON.stringify(startParams ?? null)],
    { encoding: 'utf8', timeout: 180_000 },
  )
  return JSON.parse(out) as Sample
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

if (process.argv[2] === '--child') {
  const params: unknown = JSON.parse(process.argv[4] ?? 'null')
  await child(process.argv[3] as string, Array.isArray(params) ? params.map(String) : undefined)
} else {
  const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3))
  const root = await mkdtemp(join(tmpdir(), 'synckit-bench-pglite-'))
  const samples = new Map<string, Sample[]>()
  try {
    for (let r = 0; r < rounds; r++) {
      for (const [name, params] of Object.entries(VARIANTS)) {
        const dir = join(root, `${r}-${Object.keys(VARIANTS).indexOf(name)}`)
        for (const phase of ['first open (initdb)', 'reopen']) {
          const sample = run(dir, params)
          const key = `${name}, ${phase}`
          samples.set(key, [...(samples.get(key) ?? []), sample])
          console.log(
            `round ${r + 1} ${key}: ${JSON.stringify(sample, (_, v) => (typeof v === 'number' ? Math.round(v) : v))}`,
          )
        }
        await rm(dir, { recursive: true, force: true })
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true })
  }
  console.log(`\nPGlite alone (no server), medians of ${rounds} rounds, node ${process.version}`)
  console.table(
    Object.fromEntries(
      [...samples].map(([key, list]) => [
        key,
        {
          'open ms': Math.round(median(list.map((s) => s.openMs))),
          'RSS MB': Math.round(median(list.map((s) => s.rssMb))),
          'peak MB': Math.round(median(list.map((s) => s.peakMb))),
          'external MB': Math.round(median(list.map((s) => s.externalMb))),
        },
      ]),
    ),
  )
}
