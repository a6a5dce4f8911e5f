import { afterEach, describe, expect, it } from 'vitest'
import type { DocumentSnapshot } from '../../src/crdt/types.js'
import { consoleLogger, createSyncServer, MemoryStore } from '../../src/index.js'
import { attachWebhooks } from '../../src/webhooks/index.js'
import { startReceiver, TEST_SECRET } from '../helpers/webhook-receiver.js'
import { waitFor } from '../unit/server-fakes.js'

/** Webhooks report what the store committed, and the deletes of `sync.documents`. */

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Saves wait until `release()`. */
class HeldStore extends MemoryStore {
  saves = 0
  #gates: (() => void)[] = []
  #held = true

  override async save(documents: readonly DocumentSnapshot[]): Promise<void> {
    this.saves++
    if (this.#held) await new Promise<void>((resolve) => this.#gates.push(resolve))
    return super.save(documents)
  }

  release(): void {
    this.#held = false
    for (const open of this.#gates.splice(0)) open()
  }
}

async function setup(store = new MemoryStore()) {
  const receiver = await startReceiver(cleanups)
  const sync = createSyncServer({
    auth: { required: false },
    store,
    logger: consoleLogger({ level: 'silent' }),
  })
  cleanups.push(() => sync.close())
  const webhooks = attachWebhooks(sync, {
    endpoints: [{ url: receiver.url, secret: TEST_SECRET }],
    coalesceMs: 20,
  })
  cleanups.push(() => webhooks.close())
  return { sync, receiver, store }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('webhooks and sync.documents', () => {
  it('sends document.changed only once the store committed the write, naming the actor', async () => {
    const store = new HeldStore()
    const { sync, receiver } = await setup(store)
    const update = sync.documents.update('job-1', { set: { status: 'done' } }, { actor: 'worker-3' })
    await waitFor(() => store.saves === 1, 2000, 'the save started')
    await sleep(150) // several coalescing windows: nothing may be sent before the commit
    expect(receiver.received).toHaveLength(0)
    store.release()
    await update
    await waitFor(() => receiver.received.length === 1, 5000, 'the webhook')
    const [call] = receiver.received
    expect(call?.verifyError).toBeUndefined()
    expect(call?.payload).toMatchObject({
      type: 'document.changed',
      data: { documentId: 'job-1', actors: ['worker-3'], set: { status: 'done' }, delete: [] },
    })
  })

  it('sends document.deleted for a delete, after the change still pending for that document', async () => {
    const { sync, receiver } = await setup()
    await sync.documents.update('board', { set: { title: 'x' } })
    expect(await sync.documents.delete('board', { actor: 'admin-1' })).toBe(true)
    await waitFor(() => receiver.received.length === 2, 5000, 'both webhooks')
    expect(receiver.received.map((call) => call.payload)).toMatchObject([
      { type: 'document.changed', data: { documentId: 'board', set: { title: 'x' } } },
      { type: 'document.deleted', data: { documentId: 'board', actor: 'admin-1' } },
    ])
    // Deleting what does not exist says nothing.
    expect(await sync.documents.delete('board')).toBe(false)
    await sleep(100)
    expect(receiver.received).toHaveLength(2)
  })
})
