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
import { createPostgresStore, type SqlDocumentStore } from '../adapters/postgres.js'
import type { DocumentSnapshot } from '../src/crdt/types.js'
import type { DocumentStore } from '../src/server/index.js'
import { DEFAULT_POSTGRES_URL, dropSchema, testSchemaName } from '../test/helpers/services.js'
import { type DurableRun, durableWrites, fmt, median, positive } from './durable-writes.js'

const URL_ = process.env.DATABASE_URL ?? DEFAULT_POSTGRES_URL
const CLIENTS = positive('BENCH_CLIENTS', 16)
const WRITES = positive('BENCH_WRITES', 50)
const RUNS = Math.max(3, positive('BENCH_RUNS', 5))
const DOCUMENTS = 4

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

interface RunResult extends DurableRun {
  /** Statements the store sent for the writes. */
  roundTrips: number
}

async function run(mode: Mode, schema: string, index: number): Promise<RunResult> {
  const sql = await createPostgresStore({ url: URL_, schema, max: 10 })
  const store: DocumentStore = mode === 'group' ? sql : new OnePerRoundTrip(sql)
  let before = 0
  // The server closes the store when it stops.
  const result = await durableWrites(store, {
    clients: CLIENTS,
    writes: WRITES,
    documents: DOCUMENTS,
    prefix: `bench-${mode}-${index}`,
    beforeWrites: () => {
      before = sql.stats.roundTrips
    },
  })
  return { ...result, roundTrips: sql.stats.roundTrips - before }
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
