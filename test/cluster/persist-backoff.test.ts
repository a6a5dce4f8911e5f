import { afterEach, describe, expect, it } from 'vitest'
import { attachWebSocketServer } from '../../adapters/ws.js'
import type { SyncClient } from '../../src/client/types.js'
import type { DocumentSnapshot } from '../../src/crdt/types.js'
import { createSyncServer, MemoryStore, type SyncServer } from '../../src/server/index.js'
import { sleep, waitFor, within } from '../helpers/wait-for.js'
import { makeClient } from './support.js'

/**
 * Regression: while the store failed, a batch that used up its attempts was re-dirtied and the
 * very next flush started it again at once, so an outage meant a retry loop at the pace of the
 * per-batch delays (every ~300 ms by default, 3 `error` events each: a log line apiece from the
 * CLI) for as long as it lasted. Consecutive failed batches now back off (doubling, capped at
 * `persist.maxRetryDelayMs`), and the first success resets it.
 */
class FlakyStore extends MemoryStore {
  failing = false
  saves = 0
  override async save(documents: DocumentSnapshot[]): Promise<void> {
    this.saves++
    if (this.failing) throw Object.assign(new Error('store down'), { code: 'CONNECTION_ERROR' })
    return super.save(documents)
  }
}

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function start(store: FlakyStore): Promise<{ server: SyncServer; client: SyncClient }> {
  const server = createSyncServer({ nodeId: 'backoff', store, auth: { required: false } })
  server.on('error', () => {})
  const transport = await attachWebSocketServer(server, { port: 0, host: '127.0.0.1' })
  cleanup.push(() => server.close())
  cleanup.push(() => transport.close())
  const client = makeClient({ url: `ws://127.0.0.1:${transport.port}/ws`, dialect: 'sdk', reconnect: false })
  cleanup.push(() => client.close())
  await within(client.connect(), 5000, 'connect')
  await within(client.subscribe('doc'), 5000, 'subscribe')
  return { server, client }
}

describe('persist retries back off while the store keeps failing', () => {
  it('a long failure costs a few attempts, not one every few hundred ms; recovery still lands everything', async () => {
    const store = new FlakyStore()
    const { server, client } = await start(store)
    await client.set('doc', 'before', 1)
    store.failing = true
    store.saves = 0
    const rejected = client.set('doc', 'during', 2).then(
      () => 'acked',
      (error: { code?: string }) => error.code,
    )
    // The writer is told at once (the first batch is not delayed).
    expect(await within(rejected, 3000, 'PERSIST_FAILED')).toBe('PERSIST_FAILED')
    await sleep(3000)
    // Without backoff: a round of 3 attempts every ~300 ms, ~30 saves in 3 s.
    expect(store.saves).toBeLessThanOrEqual(15)
    expect(store.saves).toBeGreaterThanOrEqual(6)

    store.failing = false
    // The pending register lands (within the capped delay), and new writes are acked again.
    await waitFor(async () => (await store.load('doc'))?.registers.some((r) => r.field === 'during'), {
      timeoutMs: 5000,
      message: 'the pending register to land',
    })
    await within(client.set('doc', 'after', 3), 5000, 'ack after recovery')
    expect(server.stats().pendingPersistBatches).toBe(0)
  }, 20_000)
})
