/**
 * Heap per idle connection: a SyncServer on the `ws` adapter in this process, N clients in a
 * child process, each subscribed to a document (10 per document, as in `bench:e2e --only idle`).
 * The figure is the V8 heap in use after a full GC, before and after the clients connect, divided
 * by N: what the server's JavaScript keeps per socket, without the RSS noise of heap growth steps
 * (so a change of a few hundred bytes per connection shows). Native memory (libuv, kernel buffers)
 * is not in it: `bench:e2e` measures RSS.
 *
 *   npm run bench:connection-heap                 N = 8000, 3 rounds
 *   BENCH_CONNECTIONS=10000 BENCH_ROUNDS=5 npm run bench:connection-heap
 */
import { type ChildProcess, fork } from 'node:child_process'
import { createServer } from 'node:http'
import { attachToHttpServer } from '../adapters/node.js'
import { createSyncServer } from '../src/server/index.js'
import { subscribeFrame } from './e2e/frames.js'

const N = Number(process.env.BENCH_CONNECTIONS ?? 8000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const PER_DOCUMENT = 10

if (process.argv[2] === 'client') await runClients(process.argv[3] as string)
else await main()

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('run with node --expose-gc (npm run bench:connection-heap does)')
  const perConnection: number[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    const sync = createSyncServer({
      auth: { required: false },
      maxConnections: N + 100,
      maxConnectionsPerIp: N + 100,
    })
    const http = createServer()
    const attached = attachToHttpServer(sync, http)
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const { port } = http.address() as { port: number }
    gc()
    gc()
    const before = process.memoryUsage().heapUsed
    const child = fork(new URL(import.meta.url).pathname, ['client', `ws://127.0.0.1:${port}/ws`], {
      execArgv: [],
    })
    await ready(child)
    await new Promise((resolve) => setTimeout(resolve, 500))
    gc()
    gc()
    const bytes = (process.memoryUsage().heapUsed - before) / N
    perConnection.push(bytes)
    console.log(`round ${round}: ${N} connections, ${Math.round(bytes)} bytes of heap per connection`)
    child.kill()
    await attached.close()
    await sync.close()
    http.close()
  }
  const sorted = [...perConnection].sort((a, b) => a - b)
  const median = sorted[Math.floor(sorted.length / 2)] as number
  console.log(
    JSON.stringify({
      bench: 'connection-heap',
      node: process.version,
      connections: N,
      bytesPerConnection: Math.round(median),
    }),
  )
  process.exit(0)
}

function ready(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve())
    child.once('exit', (code) => reject(new Error(`client process exited (${code})`)))
  })
}

async function runClients(url: string): Promise<void> {
  const { WebSocket } = await import('ws')
  let synced = 0
  for (let i = 0; i < N; i++) {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    ws.on('error', (error) => {
      console.error(`client ${i}: ${error.message}`)
      process.exit(1)
    })
    ws.on('open', () => ws.send(subscribeFrame(`doc${Math.floor(i / PER_DOCUMENT)}`)))
    ws.once('message', () => {
      if (++synced === N) process.send?.('ready')
    })
    // Paced, so the server's accept queue never overflows on a busy machine.
    if (i % 200 === 199) await new Promise((resolve) => setTimeout(resolve, 20))
  }
  await new Promise(() => {})
}
