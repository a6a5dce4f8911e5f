import { describe, expect, it } from 'vitest'
import type { DocumentSnapshot } from '../../src/crdt/types.js'
import { createSyncServer, type DocumentStore, MemoryStore } from '../../src/server/index.js'
import { FakeSocket, frame, sleep, waitFor } from './server-fakes.js'

/** A store whose saves take a while, to catch shutdowns that do not wait. */
class SlowStore implements DocumentStore {
  readonly inner = new MemoryStore()
  closed = 0
  constructor(readonly delayMs: number) {}
  load(id: string) {
    return this.inner.load(id)
  }
  async save(docs: DocumentSnapshot[]) {
    await sleep(this.delayMs)
    await this.inner.save(docs)
  }
  async close() {
    this.closed++
  }
}

describe('graceful close()', () => {
  it('flushes, waits for in-flight persists, releases acks, then closes sockets 1001', async () => {
    const store = new SlowStore(50)
    const sync = createSyncServer({ auth: { required: false }, store })
    const socket = new FakeSocket()
    const handle = sync.handleConnection(socket, { remoteAddress: '10.0.0.1' })
    handle.receive(frame('delta', { documentId: 'd', delta: { x: 1 }, messageId: 'w1' }))
    // No end-of-turn yet: the write is only in the engine. close() must flush it itself.
    await sync.close()
    expect((await store.inner.load('d'))?.registers.map((r) => r.value)).toEqual([1])
    const types = socket.messages().map((m) => m.type)
    expect(types).toContain('ack')
    expect(socket.closedWith).toEqual({ code: 1001, reason: 'Server shutdown' })
    expect(store.closed).toBe(1)
    expect(sync.stats().connections).toBe(0)
  })

  it('is idempotent and refuses new connections with 1001', async () => {
    const store = new SlowStore(1)
    const sync = createSyncServer({ auth: { required: false }, store })
    const first = sync.close()
    expect(sync.close()).toBe(first)
    expect(sync.closing).toBe(true)
    const late = new FakeSocket()
    sync.handleConnection(late, { remoteAddress: '10.0.0.1' })
    expect(late.closedWith).toEqual({ code: 1001, reason: 'Server shutdown' })
    await first
    await sync.close()
    expect(store.closed).toBe(1)
  })

  it('emits disconnect for every socket and stops its timers', async () => {
    const sync = createSyncServer({
      auth: { required: false },
      heartbeat: { intervalMs: 10 },
      tickIntervalMs: 10,
    })
    const sockets = [1, 2, 3].map(() => new FakeSocket())
    for (const [i, s] of sockets.entries()) sync.handleConnection(s, { remoteAddress: `10.0.0.${i}` })
    const reasons: (string | undefined)[] = []
    sync.on('disconnect', (e) => reasons.push(e.reason))
    await sync.close()
    expect(reasons).toEqual(['Server shutdown', 'Server shutdown', 'Server shutdown'])
    const pings = sockets.map((s) => s.pings)
    await sleep(40)
    expect(sockets.map((s) => s.pings)).toEqual(pings)
  })

  it('gives up on a store that keeps failing, within bounded rounds', async () => {
    let attempts = 0
    const store: DocumentStore = {
      load: async () => undefined,
      save: async () => {
        attempts++
        throw new Error('down')
      },
    }
    const sync = createSyncServer({
      auth: { required: false },
      store,
      persist: { attempts: 1, retryDelayMs: 1 },
    })
    sync.on('error', () => {})
    const socket = new FakeSocket()
    sync
      .handleConnection(socket, { remoteAddress: '10.0.0.1' })
      .receive(frame('delta', { documentId: 'd', delta: { x: 1 } }))
    await sync.close()
    expect(attempts).toBeGreaterThanOrEqual(1)
    expect(attempts).toBeLessThanOrEqual(5)
    expect(socket.closedWith?.code).toBe(1001)
  })

  it('lets a new server pick up where the old one left off through the same store', async () => {
    const store = new MemoryStore()
    const first = createSyncServer({ auth: { required: false }, store })
    first
      .handleConnection(new FakeSocket(), { remoteAddress: '10.0.0.1' })
      .receive(frame('delta', { documentId: 'd', delta: { kept: 'yes' } }))
    await first.close()
    const second = createSyncServer({ auth: { required: false }, store, resendFieldsOnSubscribe: false })
    const socket = new FakeSocket()
    second
      .handleConnection(socket, { remoteAddress: '10.0.0.1' })
      .receive(frame('subscribe', { documentId: 'd' }))
    await waitFor(() => socket.ofType('sync_response').length === 1)
    expect(socket.ofType('sync_response')[0]?.state).toEqual({ kept: 'yes' })
    await second.close()
  })
})
