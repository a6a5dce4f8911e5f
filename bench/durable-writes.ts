/**
 * The durable-writes harness shared by `bench:storage` and `bench:embedded`: a real server
 * (`createSyncServer` + the `ws` adapter) on 127.0.0.1 with `store`, CLIENTS protocol clients each
 * writing WRITES single-field values one at a time and waiting for the `ack`, which the server
 * sends only after the store committed (durable acks, the default).
 */
import { WebSocket } from 'ws'
import { attachWebSocketServer } from '../adapters/ws.js'
import { createSyncClient } from '../src/client/index.js'
import type { SyncClient } from '../src/client/types.js'
import { createSyncServer, type DocumentStore } from '../src/server/index.js'

export interface DurableRun {
  writesPerSecond: number
  p50AckMs: number
  p99AckMs: number
}

export interface DurableRunOptions {
  clients: number
  writes: number
  documents: number
  /** Document ids are `<prefix>-<i % documents>`: a fresh prefix per run keeps runs apart. */
  prefix: string
  deadlineMs?: number
  /** Called once every client is connected and subscribed, right before the timed writes. */
  beforeWrites?: () => void
}

/** The server closes its store on shutdown; a store shared by several runs must stay open. */
export function keepOpen(store: DocumentStore): DocumentStore {
  return {
    load: (id) => store.load(id),
    save: (documents) => store.save(documents),
    health: () => store.health?.() ?? Promise.resolve(true),
  }
}

export async function durableWrites(store: DocumentStore, options: DurableRunOptions): Promise<DurableRun> {
  const server = createSyncServer({
    nodeId: `bench-${options.prefix}`.replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 64),
    store,
    auth: { required: false },
    maxMessagesPerMinute: 1_000_000,
    maxConnectionsPerIp: 10_000,
  })
  server.on('error', (error) => console.error('server error:', error))
  const transport = await attachWebSocketServer(server, { port: 0, host: '127.0.0.1' })
  const url = `ws://127.0.0.1:${transport.port}/ws`
  const clients: SyncClient[] = Array.from({ length: options.clients }, (_, i) =>
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
    const doc = (i: number) => `${options.prefix}-${i % options.documents}`
    await Promise.all(clients.map((c, i) => c.subscribe(doc(i))))
    options.beforeWrites?.()
    const latencies: number[] = []
    const started = performance.now()
    await withDeadline(
      Promise.all(
        clients.map(async (client, i) => {
          for (let n = 0; n < options.writes; n++) {
            const t = performance.now()
            await client.set(doc(i), `c${i}-f${n % 10}`, n)
            latencies.push(performance.now() - t)
          }
        }),
      ),
      options.deadlineMs ?? 120_000,
    )
    const seconds = (performance.now() - started) / 1000
    latencies.sort((a, b) => a - b)
    return {
      writesPerSecond: (options.clients * options.writes) / seconds,
      p50AckMs: latencies[Math.floor(latencies.length * 0.5)] ?? 0,
      p99AckMs: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
    }
  } finally {
    for (const client of clients) client.close()
    await transport.close()
    await server.close()
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`run exceeded ${ms} ms`)), ms)
  })
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer))
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2
}

export function positive(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`)
  return value
}

export const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')
