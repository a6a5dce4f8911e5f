import { afterEach, describe, expect, it } from 'vitest'
import * as examples from '../../examples/events.js'
import type { DocumentSnapshot } from '../../src/crdt/types.js'
import { createSyncServer, MemoryStore, type SyncServer } from '../../src/server/index.js'
import { FakeSocket, frame, waitFor } from '../unit/server-fakes.js'

/** Every event of `SyncServerEvents`, emitted for real, through the listener docs/events.md shows. */

const servers: SyncServer[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close()
})

class FlakyStore extends MemoryStore {
  override async load(documentId: string): Promise<DocumentSnapshot | undefined> {
    if (documentId === 'broken') throw new Error('disk on fire')
    return super.load(documentId)
  }
}

describe('docs/events.md examples', () => {
  it('each listener writes its line when its event happens', async () => {
    const sync = createSyncServer({
      auth: { required: false },
      allowedOrigins: ['https://app.example.com'],
      store: new FlakyStore(),
      limits: { maxIdleDocuments: 1 },
      tickIntervalMs: 10,
      logger: {
        debug() {},
        info() {},
        warn() {},
        error() {},
        child() {
          return this
        },
      },
    })
    servers.push(sync)
    const lines = new Map<string, string[]>()
    for (const [name, register] of Object.entries(examples)) {
      if (typeof register !== 'function') continue
      const list: string[] = []
      lines.set(name, list)
      register(sync, (line) => list.push(line))
    }
    expect([...lines.keys()].length).toBe(14)

    await sync.upgrade({ remoteAddress: '203.0.113.9', headers: { origin: 'https://evil.example' } })
    const socket = new FakeSocket()
    const handle = sync.handleConnection(socket, { remoteAddress: '203.0.113.7' })
    const id = handle.id
    handle.receive(frame('subscribe', { documentId: 'todo:1' }))
    await waitFor(() => socket.ofType('sync_response').length === 1)
    handle.receive(
      frame('delta', { documentId: 'todo:1', delta: { title: 'Buy milk', old: { __deleted: true } } }),
    )
    handle.receive(
      frame('awareness_update', { documentId: 'todo:1', clientId: 'tab-1', state: { cursor: 3 }, clock: 1 }),
    )
    handle.receive(frame('subscribe', { documentId: '' }))
    handle.receive(frame('subscribe', { documentId: 'broken' }))
    await waitFor(() => socket.ofType('error').length === 2)
    handle.receive(frame('unsubscribe', { documentId: 'todo:1' }))
    handle.receive(frame('subscribe', { documentId: 'todo:2' }))
    await waitFor(() => socket.ofType('sync_response').length === 2)
    handle.receive(frame('unsubscribe', { documentId: 'todo:2' }))
    await waitFor(() => (lines.get('onDocumentEvicted') ?? []).length > 0)
    await sync.documents.delete('todo:1', { actor: 'admin-1' })
    handle.closed()

    expect(Object.fromEntries(lines)).toEqual({
      onConnection: [`${id} connected from 203.0.113.7 as nobody yet`],
      onConnectionRejected: ['refused 203.0.113.9: 403 Origin not allowed'],
      onDisconnect: [`${id} left`],
      onAuthenticated: [`${id} is anonymous (via anonymous)`],
      onSubscribed: [`${id} follows todo:1`, `${id} follows todo:2`],
      onUnsubscribed: [`${id} left todo:1`, `${id} left todo:2`],
      onDocumentChange: ['anonymous set "Buy milk" in todo:1.title', 'anonymous deleted todo:1.old'],
      onDocumentCommitted: ['stored title, old of todo:1'],
      onDocumentDeleted: ['todo:1 deleted (local) by admin-1'],
      onDocumentLoaded: ['loaded todo:1 (0 fields)', 'loaded todo:2 (0 fields)'],
      onDocumentEvicted: ['evicted todo:1 from memory'],
      onAwarenessChange: ['tab-1 is {"cursor":3} on todo:1', 'tab-1 left on todo:1'],
      onProtocolError: [
        `${id} sent something wrong: INVALID_DOCUMENT_ID`,
        `${id} sent something wrong: LOAD_FAILED on broken`,
      ],
      onError: ['load failed for broken: disk on fire'],
    })
  })
})
