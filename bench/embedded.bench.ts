/**
 * Embedded store benchmark: PGlite (the embedded store `npm start` used before SQLite, still
 * `--storage pglite`) against SQLite (the default now) in `synchronous: full` (the default) and
 * `normal`, side by side in one run.
 *
 * 1. Open: creating a store in a new data directory, and reopening it (ms, median).
 * 2. Durable acked writes/s through a real server (the `bench:storage` harness: CLIENTS clients
 *    writing one field at a time, each waiting for its ack, which follows the commit). Runs rotate
 *    the store order so a noisy neighbour hurts all alike; medians of RUNS runs.
 * 3. Commit time of one `save` of N registers (one transaction): for SQLite this is how long the
 *    event loop is blocked, since its bindings are synchronous. Median, p99 and max of BATCHES.
 *
 * Run: `npm run bench:embedded` (BENCH_CLIENTS default 16, BENCH_WRITES 50, BENCH_RUNS 5,
 * BENCH_BATCHES 100). Data directories under the OS temp dir, removed after. Exits by itself.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DocumentSnapshot } from '../src/crdt/types.js'
import type { DocumentStore } from '../src/server/index.js'
import { createPgliteStore } from '../src/storage/pglite.js'
import { createSqliteStore } from '../src/storage/sqlite.js'
import { type DurableRun, durableWrites, fmt, keepOpen, median, positive } from './durable-writes.js'

const CLIENTS = positive('BENCH_CLIENTS', 16)
const WRITES = positive('BENCH_WRITES', 50)
const RUNS = Math.max(3, positive('BENCH_RUNS', 5))
const BATCHES = positive('BENCH_BATCHES', 100)
const BATCH_SIZES = [1, 10, 100, 1000]
const OPENS = 3

type Kind = 'pglite' | 'sqlite-full' | 'sqlite-normal'
const KINDS: Kind[] = ['pglite', 'sqlite-full', 'sqlite-normal']

interface Store extends DocumentStore {
  close(): Promise<void>
}

function open(kind: Kind, dataDir: string): Promise<Store> {
  if (kind === 'pglite') return createPgliteStore({ dataDir })
  return createSqliteStore({ dataDir, synchronous: kind === 'sqlite-full' ? 'full' : 'normal' })
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now()
  const value = await fn()
  return [value, performance.now() - t]
}

const root = await mkdtemp(join(tmpdir(), 'synckit-bench-embedded-'))
try {
  // 1. Open times.
  const opens: Record<string, { create: number[]; reopen: number[] }> = {}
  for (let i = 0; i < OPENS; i++) {
    for (const kind of i % 2 === 0 ? KINDS : [...KINDS].reverse()) {
      const dir = join(root, `open-${kind}-${i}`)
      const [created, createMs] = await timed(() => open(kind, dir))
      await created.close()
      const [reopened, reopenMs] = await timed(() => open(kind, dir))
      await reopened.close()
      opens[kind] ??= { create: [], reopen: [] }
      opens[kind].create.push(createMs)
      opens[kind].reopen.push(reopenMs)
      await rm(dir, { recursive: true, force: true })
    }
  }

  // 2. Durable acked writes through the server, every store open for the whole part.
  const stores = new Map<Kind, Store>()
  for (const kind of KINDS) stores.set(kind, await open(kind, join(root, `writes-${kind}`)))
  const runs = new Map<Kind, DurableRun[]>(KINDS.map((k) => [k, []]))
  const options = { clients: CLIENTS, writes: WRITES, documents: 4 }
  for (const kind of KINDS)
    await durableWrites(keepOpen(stores.get(kind) as Store), { ...options, prefix: `warm-${kind}` })
  for (let r = 0; r < RUNS; r++) {
    const order = KINDS.map((_, i) => KINDS[(i + r) % KINDS.length] as Kind)
    for (const kind of order) {
      const result = await durableWrites(keepOpen(stores.get(kind) as Store), {
        ...options,
        prefix: `run-${r}-${kind}`,
      })
      runs.get(kind)?.push(result)
      console.log(
        `run ${r + 1} ${kind.padEnd(13)} ${fmt(result.writesPerSecond).padStart(6)} acked writes/s, ` +
          `ack p50 ${result.p50AckMs.toFixed(1)} ms, p99 ${result.p99AckMs.toFixed(1)} ms`,
      )
    }
  }

  // 3. Commit time of one save of N registers.
  const commits = new Map<string, number[]>()
  for (const size of BATCH_SIZES) {
    for (const kind of KINDS) {
      const store = stores.get(kind) as Store
      const times: number[] = []
      for (let b = 0; b < BATCHES; b++) {
        const batch: DocumentSnapshot[] = Array.from({ length: 4 }, (_, d) => ({
          documentId: `commit-${size}-${d}`,
          registers: Array.from({ length: Math.ceil(size / 4) }, (_, f) => ({
            field: `f${f}`,
            value: { b, f, text: 'some value' },
            deleted: false,
            stamp: { ms: b + 1, counter: f, node: 'bench' },
            dot: { node: 'bench', seq: b * size + f + 1 },
          })),
          clock: { bench: b * size + size },
        })).slice(0, size)
        const [, ms] = await timed(() => store.save(batch))
        times.push(ms)
      }
      commits.set(`${kind} ${size}`, times)
    }
  }
  for (const store of stores.values()) await store.close()

  const ms = (n: number) => n.toFixed(n < 10 ? 2 : 1)
  console.log(`\nOpen a data directory (ms, median of ${OPENS}):`)
  console.table(
    Object.fromEntries(
      KINDS.map((k) => [
        k,
        { 'new directory': ms(median(opens[k]?.create ?? [])), reopen: ms(median(opens[k]?.reopen ?? [])) },
      ]),
    ),
  )
  const pgliteWrites = median((runs.get('pglite') ?? []).map((r) => r.writesPerSecond))
  console.log(
    `\nDurable acked writes: ${CLIENTS} clients x ${WRITES} sequential writes (${fmt(CLIENTS * WRITES)} per run) over 4 documents, ${RUNS} runs each`,
  )
  console.table(
    Object.fromEntries(
      KINDS.map((k) => {
        const rows = runs.get(k) ?? []
        const perSecond = rows.map((r) => r.writesPerSecond)
        return [
          k,
          {
            'acked writes/s (median)': fmt(median(perSecond)),
            'min..max': `${fmt(Math.min(...perSecond))}..${fmt(Math.max(...perSecond))}`,
            'vs pglite': `x${(median(perSecond) / pgliteWrites).toFixed(2)}`,
            'ack p50 ms': median(rows.map((r) => r.p50AckMs)).toFixed(1),
            'ack p99 ms': median(rows.map((r) => r.p99AckMs)).toFixed(1),
          },
        ]
      }),
    ),
  )
  console.log(
    `\nOne save of N registers over 4 documents, one transaction (ms; median / p99 / max of ${BATCHES}):`,
  )
  const commitTable: Record<string, Record<string, string>> = {}
  for (const size of BATCH_SIZES) {
    commitTable[`N = ${size}`] = Object.fromEntries(
      KINDS.map((k) => {
        const times = [...(commits.get(`${k} ${size}`) ?? [])].sort((a, b) => a - b)
        const p99 = times[Math.min(times.length - 1, Math.floor(times.length * 0.99))] ?? 0
        return [k, `${ms(median(times))} / ${ms(p99)} / ${ms(times[times.length - 1] ?? 0)}`]
      }),
    )
  }
  console.table(commitTable)
} finally {
  await rm(root, { recursive: true, force: true })
}
