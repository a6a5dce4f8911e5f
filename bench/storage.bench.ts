/**
 * Storage benchmark: durable acked writes per second against Postgres through a real server
 * (`createSyncServer` + the `ws` adapter + protocol clients on 127.0.0.1). Each client writes one
 * field at a time and waits for its `ack`, which the server sends only after the store committed
 * (durable acks, the default). Two stores, same SQL:
 *
 * - group commit (the default): every register applied in one I/O turn, across documents and
 *   clients, is saved by ONE statement;
 * - one write per round trip: a wrapper that saves each register in its own `save` call, one
 *   after the other.
 *
 * Runs alternate between the two (so a noisy neighbour hurts both alike); medians of RUNS runs.
 * Run: `npm run bench:storage` (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test;
 * BENCH_CLIENTS, BENCH_WRITES, BENCH_RUNS override the sizes). Uses its own schema, dropped after.
 */
import { WebSocket } from 'ws'
import { createPostgresStore, type SqlDocumentStore } from '../adapters/postgres.js'
import { attachWebSocketServer } from '../adapters/ws.js'
import { createSyncClient } from '../src/client/index.js'
import type { SyncClient } from '../src/client/types.js'
import type { DocumentSnapshot } from '../src/crdt/types.js'
import { createSyncServer, type DocumentStore } from '../src/server/index.js'
import { DEFAULT_POSTGRES_URL, dropSchema, testSchemaName } from '../test/helpers/services.js'

const URL_ = process.env.DATABASE_URL ?? DEFAULT_POSTGRES_URL
const CLIENTS = positive('BENCH_CLIENTS', 16)
const WRITES = positive('BENCH_WRITES', 50)
const RUNS = Math.max(3, positive('BENCH_RUNS', 5))
const DOCUMENTS = 4
const DEADLINE_MS = 120_000

function positive(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`)
  return value
}

/** The same store, but every register goes to the database in its own `save` (one statement each). */
class OnePerRoundTrip implements DocumentStore {
  constructor(readonly inner: SqlDocumentStore) {}
  load(documentId: string): Promise<DocumentSnapshot | undefined> {
    return this.inner.load(documentId)
  }
  async save(documents: DocumentSnapshot[]): Promise<void> {
    for (const document of documents) {
      for (const register of document.registers) {
        await this.inner.save([
          { documentId: document.documentId, registers: [register], clock: document.clock },
        ])
      }
    }
  }
  health(): Promise<boolean> {
    return this.inner.health()
  }
  close(): Promise<void> {
    return this.inner.close()
  }
}

type Mode = 'group' | 'single'

interface RunResult {
  writesPerSecond: number
  /** Statements the store sent for the writes. */
  roundTrips: number
  p50AckMs: number
  p99AckMs: number
}

async function run(mode: Mode, schema: string, index: number): Promise<RunResult> {
  const sql = await createPostgresStore({ url: URL_, schema, max: 10 })
  const store: DocumentStore = mode === 'group' ? sql : new OnePerRoundTrip(sql)
  const server = createSyncServer({
    nodeId: `bench-${mode}`,
    store,
    auth: { required: false },
    maxMessagesPerMinute: 1_000_000,
    maxConnectionsPerIp: 10_000,
  })
  server.on('error', (error) => console.error('server error:', error))
  const transport = await attachWebSocketServer(server, { port: 0, host: '127.0.0.1' })
  const url = `ws://127.0.0.1:${transport.port}/ws`
  const clients: SyncClient[] = Array.from({ length: CLIENTS }, (_, i) =>
    createSyncClient({
      url,
      WebSocket,
      dialect: 'sdk',
      clientId: `bench-${i}`,
      reconnect: false,
      requestTimeoutMs: 60_000,
    }),
  )
  try {
    await Promise.all(clients.map((c) => c.connect()))
    const doc = (i: number) => `bench-${mode}-${index}-${i % DOCUMENTS}`
    await Promise.all(clients.map((c, i) => c.subscribe(doc(i))))
    const before = sql.stats.roundTrips
    const latencies: number[] = []
    const started = performance.now()
    await withDeadline(
      Promise.all(
        clients.map(async (client, i) => {
          for (let n = 0; n < WRITES; n++) {
            const t = performance.now()
            await client.set(doc(i), `c${i}-f${n % 10}`, n)
            latencies.push(performance.now() - t)
          }
        }),
      ),
    )
    const seconds = (performance.now() - started) / 1000
    latencies.sort((a, b) => a - b)
    return {
      writesPerSecond: (CLIENTS * WRITES) / seconds,
      roundTrips: sql.stats.roundTrips - before,
      p50AckMs: latencies[Math.floor(latencies.length * 0.5)] ?? 0,
      p99AckMs: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
    }
  } finally {
    for (const client of clients) client.close()
    await transport.close()
    await server.close()
  }
}

function withDeadline<T>(promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`run exceeded ${DEADLINE_MS} ms`)), DEADLINE_MS)
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

const schema = testSchemaName()
const results: Record<Mode, RunResult[]> = { group: [], single: [] }
try {
  // One warm-up of each (connections, prepared statements, JIT), not counted.
  await run('group', schema, -1)
  await run('single', schema, -2)
  for (let r = 0; r < RUNS; r++) {
    for (const mode of r % 2 === 0 ? (['group', 'single'] as const) : (['single', 'group'] as const)) {
      const result = await run(mode, schema, r)
      results[mode].push(result)
      console.log(
        `run ${r + 1} ${mode.padEnd(6)} ${Math.round(result.writesPerSecond).toLocaleString('en-US').padStart(6)} acked writes/s, ` +
          `${result.roundTrips} statements, ack p50 ${result.p50AckMs.toFixed(1)} ms, p99 ${result.p99AckMs.toFixed(1)} ms`,
      )
    }
  }
} finally {
  await dropSchema(URL_, schema)
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
const summary = (mode: Mode) => {
  const rows = results[mode]
  return {
    'acked writes/s (median)': fmt(median(rows.map((r) => r.writesPerSecond))),
    'min..max': `${fmt(Math.min(...rows.map((r) => r.writesPerSecond)))}..${fmt(Math.max(...rows.map((r) => r.writesPerSecond)))}`,
    'statements per run (median)': fmt(median(rows.map((r) => r.roundTrips))),
    'ack p50 ms (median)': median(rows.map((r) => r.p50AckMs)).toFixed(1),
    'ack p99 ms (median)': median(rows.map((r) => r.p99AckMs)).toFixed(1),
  }
}
console.log(
  `\nDurable acked writes against Postgres: ${CLIENTS} clients x ${WRITES} sequential writes (${fmt(CLIENTS * WRITES)} per run) over ${DOCUMENTS} documents, ${RUNS} runs each`,
)
console.table({ 'group commit': summary('group'), 'one write per round trip': summary('single') })
const ratio =
  median(results.group.map((r) => r.writesPerSecond)) / median(results.single.map((r) => r.writesPerSecond))
console.log(`group commit / one write per round trip: x${ratio.toFixed(1)}`)
