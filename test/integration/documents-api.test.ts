import { afterEach, describe, expect, it } from 'vitest'
import { attachWebSocketServer } from '../../adapters/ws.js'
import type { DocumentSnapshot } from '../../src/crdt/types.js'
import {
  consoleLogger,
  createSyncServer,
  DocumentApiError,
  type DocumentChangeEvent,
  type DocumentStore,
  MemoryStore,
  type SyncServerOptions,
} from '../../src/index.js'
import { CODES, RawClient, type Received, withCode } from './server-client.js'

/** `sync.documents` on one node, with a real socket client watching what the API does. */

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function start(options: Partial<SyncServerOptions> = {}, store: DocumentStore = new MemoryStore()) {
  const logger = consoleLogger({ level: 'silent' })
  const sync = createSyncServer({ auth: { required: false }, store, logger, ...options })
  const attached = await attachWebSocketServer(sync, { port: 0, host: '127.0.0.1' })
  cleanups.push(
    () => sync.close(),
    () => attached.close(),
  )
  const url = `ws://127.0.0.1:${attached.port}/ws`
  return { sync, store, url }
}

async function subscribed(url: string, documentId: string): Promise<RawClient> {
  const client = await RawClient.connect(url)
  cleanups.push(async () => client.ws.terminate())
  client.send(CODES.subscribe, { documentId })
  await client.next(withCode(CODES.sync_response))
  return client
}

const deltaOf = (documentId: string, field: string) => (frame: Received) =>
  frame.code === CODES.delta && frame.payload.documentId === documentId && frame.payload.field === field

async function rejection(promise: Promise<unknown>): Promise<DocumentApiError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof DocumentApiError) return error
    throw error
  }
  throw new Error('expected a DocumentApiError, the call resolved')
}

/** A store whose saves wait until `release()` (or fail, with `fail`). */
class GatedStore extends MemoryStore {
  saves = 0
  fail = false
  #gates: (() => void)[] = []
  held = true

  override async save(documents: readonly DocumentSnapshot[]): Promise<void> {
    this.saves++
    if (this.fail) throw new Error('disk on fire')
    if (this.held) await new Promise<void>((resolve) => this.#gates.push(resolve))
    return super.save(documents)
  }

  release(): void {
    this.held = false
    for (const open of this.#gates.splice(0)) open()
  }
}

async function until(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

describe('sync.documents.update', () => {
  it('is echoed to a subscribed socket client, stored, and reported with its actor', async () => {
    const { sync, store, url } = await start()
    const client = await subscribed(url, 'board-1')
    const changes: DocumentChangeEvent[] = []
    sync.on('document-change', (event) => changes.push(event))
    const view = await sync.documents.update(
      'board-1',
      { set: { title: 'Roadmap', tags: ['q1'] } },
      { actor: 'job-7' },
    )
    expect(view).toMatchObject({ id: 'board-1', fields: { title: 'Roadmap', tags: ['q1'] } })
    expect(Object.values(view.clock).some((seq) => seq > 0)).toBe(true)
    const echo = await client.next(deltaOf('board-1', 'title'))
    expect(echo.payload).toMatchObject({ value: 'Roadmap', clientId: 'server' })
    expect(Object.keys(echo.payload.clock as object).length).toBeGreaterThan(0)
    const stored = await store.load('board-1')
    expect(stored?.registers.map((r) => r.field).sort()).toEqual(['tags', 'title'])
    expect(changes).toHaveLength(1)
    expect(changes[0]?.actor).toEqual({ kind: 'server', name: 'job-7' })
    expect(changes[0]?.origin).toBe('local')
  })

  it('deletes fields as tombstones that a stale client write cannot resurrect', async () => {
    const { sync, url } = await start()
    await sync.documents.update('doc', { set: { a: 1, b: 2 } })
    const client = await subscribed(url, 'doc')
    const view = await sync.documents.update('doc', { delete: ['a'] })
    expect(view.fields).toEqual({ b: 2 })
    const tombstone = (frame: Received) => deltaOf('doc', 'a')(frame) && frame.payload.value !== 1
    expect((await client.next(tombstone)).payload.value).toEqual({ __deleted: true })
  })

  it('refused by `validate`: rejects VALIDATION_FAILED, nothing stored, nothing echoed', async () => {
    const { sync, store, url } = await start({
      validate: {
        'todo:*': (write) =>
          write.field !== 'done' || typeof write.value === 'boolean' ? true : 'done is a boolean',
      },
    })
    const client = await subscribed(url, 'todo:1')
    const error = await rejection(sync.documents.update('todo:1', { set: { title: 'ok', done: 'yes' } }))
    expect(error.code).toBe('VALIDATION_FAILED')
    expect(error.details).toMatchObject({ documentId: 'todo:1', field: 'done' })
    expect(await store.load('todo:1')).toBeUndefined()
    await sync.documents.update('todo:1', { set: { done: true } })
    await client.next(deltaOf('todo:1', 'done'))
    expect(client.received.some(deltaOf('todo:1', 'title'))).toBe(false)
    expect((await sync.documents.get('todo:1'))?.fields).toEqual({ done: true })
  })

  it('refused by a quota: rejects QUOTA_EXCEEDED and applies nothing', async () => {
    const { sync, store } = await start({ limits: { maxFieldValueBytes: 64, maxFieldsPerDocument: 3 } })
    const big = await rejection(sync.documents.update('doc', { set: { small: 1, big: 'x'.repeat(100) } }))
    expect(big.code).toBe('QUOTA_EXCEEDED')
    expect(big.details).toMatchObject({ field: 'big' })
    const many = await rejection(sync.documents.update('doc', { set: { a: 1, b: 2, c: 3, d: 4 } }))
    expect(many.code).toBe('QUOTA_EXCEEDED')
    expect(await store.load('doc')).toBeUndefined()
    expect(await sync.documents.get('doc')).toBeUndefined()
  })

  it('resolves only once the store saved the batch', async () => {
    const store = new GatedStore()
    const { sync } = await start({}, store)
    const committed: string[] = []
    const changed: string[] = []
    sync.on('document-change', ({ documentId }) => changed.push(documentId))
    sync.on('document-committed', ({ documentId }) => committed.push(documentId))
    let resolved = false
    const update = sync.documents.update('held', { set: { x: 1 } }).then((view) => {
      resolved = true
      return view
    })
    await until(() => store.saves === 1)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(resolved).toBe(false)
    expect(changed).toEqual(['held'])
    expect(committed).toEqual([])
    expect(await store.load('held')).toBeUndefined()
    store.release()
    expect((await update).fields).toEqual({ x: 1 })
    expect(committed).toEqual(['held'])
    expect((await store.load('held'))?.registers).toHaveLength(1)
  })

  it('rejects STORE_FAILED when the store keeps failing (after its retries)', async () => {
    const store = new GatedStore()
    store.fail = true
    const { sync } = await start({ persist: { attempts: 2, retryDelayMs: 1, maxRetryDelayMs: 5 } }, store)
    const errors: string[] = []
    sync.on('error', (_error, context) => errors.push(context.operation))
    const error = await rejection(sync.documents.update('doc', { set: { x: 1 } }))
    expect(error.code).toBe('STORE_FAILED')
    expect(error.message).toMatch(/not persisted/)
    expect(store.saves).toBeGreaterThanOrEqual(2)
    expect(errors).toContain('persist')
  })

  it('refuses bad input with INVALID_INPUT before anything happens', async () => {
    const { sync } = await start()
    const cases: [string, Promise<unknown>][] = [
      ['bad id', sync.documents.update('has space', { set: { a: 1 } })],
      ['empty change', sync.documents.update('doc', {})],
      ['empty field', sync.documents.update('doc', { set: { '': 1 } })],
      ['set and delete', sync.documents.update('doc', { set: { a: 1 }, delete: ['a'] })],
      ['not JSON', sync.documents.update('doc', { set: { a: undefined as never } })],
      ['delete not a list', sync.documents.update('doc', { delete: 'a' as never })],
      ['empty actor', sync.documents.update('doc', { set: { a: 1 } }, { actor: '' })],
      ['get bad id', sync.documents.get('')],
      ['limit 0', sync.documents.list({ limit: 0 })],
      ['limit too big', sync.documents.list({ limit: 5000 })],
      ['bad prefix', sync.documents.list({ prefix: 'a b' })],
      ['delete bad id', sync.documents.delete('a/b')],
    ]
    for (const [name, call] of cases) {
      const error = await rejection(call)
      expect(error.code, name).toBe('INVALID_INPUT')
    }
    expect(sync.documentState('doc')).toBeUndefined()
  })

  it('rejects SHUTTING_DOWN once the server closes', async () => {
    const { sync } = await start()
    await sync.close()
    expect((await rejection(sync.documents.update('doc', { set: { a: 1 } }))).code).toBe('SHUTTING_DOWN')
    expect((await rejection(sync.documents.get('doc'))).code).toBe('SHUTTING_DOWN')
  })
})

describe('sync.documents.get', () => {
  it('loads a document from the store with its tombstones and stamps, and lets it be evicted', async () => {
    const store = new MemoryStore()
    const first = await start({}, store)
    await first.sync.documents.update('notes', { set: { a: 'x', b: 'y' } })
    await first.sync.documents.update('notes', { delete: ['b'] })
    await first.sync.close()
    const evicted: string[] = []
    const { sync } = await start({ limits: { maxIdleDocuments: 1 }, tickIntervalMs: 20 }, store)
    sync.on('document-evicted', ({ documentId }) => evicted.push(documentId))
    const view = await sync.documents.get('notes', { meta: true })
    expect(view?.fields).toEqual({ a: 'x' })
    expect(view?.meta?.a).toMatchObject({ value: 'x', deleted: false, nodeId: first.sync.nodeId })
    expect(view?.meta?.b).toMatchObject({ value: null, deleted: true })
    expect(view?.meta?.b?.updatedAt).toBeGreaterThanOrEqual(
      view?.meta?.a?.updatedAt ?? Number.POSITIVE_INFINITY,
    )
    expect(view?.clock[first.sync.nodeId]).toBeGreaterThan(0)
    expect((await sync.documents.get('notes'))?.meta).toBeUndefined()
    expect(sync.documentState('notes')).toEqual({ a: 'x' })
    // Read, never subscribed: idle like any other, so a later read pushes it out of memory.
    await sync.documents.get('other')
    await until(() => evicted.includes('notes'))
    expect(sync.documentState('notes')).toBeUndefined()
  })

  it('rejects STORE_FAILED when the store cannot load the document', async () => {
    class BrokenStore extends MemoryStore {
      override async load(): Promise<undefined> {
        throw new Error('disk on fire')
      }
    }
    const { sync } = await start({}, new BrokenStore())
    const error = await rejection(sync.documents.get('doc'))
    expect(error.code).toBe('STORE_FAILED')
    expect(error.message).toMatch(/Failed to load document/)
    expect((await rejection(sync.documents.update('doc', { set: { a: 1 } }))).code).toBe('STORE_FAILED')
  })

  it('answers undefined for a document never written, and does not create it', async () => {
    const { sync, store } = await start()
    expect(await sync.documents.get('nothing-here')).toBeUndefined()
    expect(await store.load('nothing-here')).toBeUndefined()
  })
})

describe('sync.documents.list', () => {
  it('pages through ids with prefix, after and limit', async () => {
    const { sync } = await start()
    const ids = ['a', 'b:1', 'b:2', 'b:3', 'b:4', 'b:5', 'c']
    for (const id of ids) await sync.documents.update(id, { set: { n: 1 } })
    const pages: string[][] = []
    let after: string | undefined
    for (;;) {
      const page = await sync.documents.list({ prefix: 'b:', limit: 2, ...(after ? { after } : {}) })
      pages.push(page.documents)
      if (!page.next) break
      after = page.next
    }
    expect(pages).toEqual([['b:1', 'b:2'], ['b:3', 'b:4'], ['b:5']])
    expect((await sync.documents.list()).documents).toEqual(ids)
    expect(await sync.documents.list({ after: 'b:5' })).toEqual({ documents: ['c'] })
  })

  it('answers NOT_SUPPORTED for a store without list or delete', async () => {
    const store: DocumentStore = { load: async () => undefined, save: async () => {} }
    const { sync } = await start({}, store)
    expect((await rejection(sync.documents.list())).code).toBe('NOT_SUPPORTED')
    expect((await rejection(sync.documents.delete('doc'))).code).toBe('NOT_SUPPORTED')
  })
})

describe('sync.documents.delete', () => {
  it('removes the document; a subscribed client gets DOCUMENT_DELETED and no further updates', async () => {
    const { sync, store, url } = await start()
    await sync.documents.update('board', { set: { title: 'old' } })
    const client = await subscribed(url, 'board')
    const other = await subscribed(url, 'elsewhere')
    const deleted: unknown[] = []
    sync.on('document-deleted', (event) => deleted.push(event))
    expect(await sync.documents.delete('board', { actor: 'admin-1' })).toBe(true)
    const error = await client.next(withCode(CODES.error))
    expect(error.payload.details).toEqual({ code: 'DOCUMENT_DELETED', documentId: 'board' })
    expect(deleted).toEqual([{ documentId: 'board', origin: 'local', actor: 'admin-1' }])
    expect(await store.load('board')).toBeUndefined()
    expect(await sync.documents.get('board')).toBeUndefined()
    expect((await sync.documents.list()).documents).toEqual([])
    expect(await sync.documents.delete('board')).toBe(false)
    // Written again: a new document, which the unsubscribed client no longer hears of.
    const framesBefore = client.received.length
    await sync.documents.update('board', { set: { title: 'new' } })
    await sync.documents.update('elsewhere', { set: { ping: 1 } })
    await other.next(deltaOf('elsewhere', 'ping'))
    expect(client.received.slice(framesBefore).filter((f) => f.code === CODES.delta)).toEqual([])
    expect((await sync.documents.get('board'))?.fields).toEqual({ title: 'new' })
    expect(other.received.some((f) => f.code === CODES.error)).toBe(false)
  })

  it('waits for a save in flight, so the save cannot bring the document back', async () => {
    const store = new GatedStore()
    const { sync } = await start({}, store)
    const update = sync.documents.update('doc', { set: { a: 1 } })
    await until(() => store.saves === 1)
    let deleted = false
    const removal = sync.documents.delete('doc').then((existed) => {
      deleted = true
      return existed
    })
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(deleted).toBe(false)
    store.release()
    await update
    expect(await removal).toBe(true)
    expect(await store.load('doc')).toBeUndefined()
  })

  it('deletes a document that is only in the store', async () => {
    const store = new MemoryStore()
    await store.save([
      {
        documentId: 'cold',
        registers: [
          {
            field: 'f',
            value: 1,
            deleted: false,
            stamp: { ms: 1, counter: 0, node: 'n' },
            dot: { node: 'n', seq: 1 },
          },
        ],
        clock: { n: 1 },
      },
    ])
    const { sync } = await start({}, store)
    expect(await sync.documents.delete('cold')).toBe(true)
    expect(store.documentIds()).toEqual([])
  })
})

describe('sync.documents.presence', () => {
  it('lists the present clients of this node with their user', async () => {
    const { sync, url } = await start()
    const client = await subscribed(url, 'room')
    client.sendJson({
      type: 'awareness_update',
      documentId: 'room',
      clientId: 'c-1',
      state: { cursor: 3 },
      clock: 1,
    })
    await until(() => sync.stats().awarenessClients === 1)
    expect(await sync.documents.presence('room')).toEqual([{ clientId: 'c-1', state: { cursor: 3 } }])
    expect(await sync.documents.presence('empty')).toEqual([])
  })

  it('names the user of an authenticated connection', async () => {
    const { sync, url } = await start({
      auth: {
        authenticate: () => ({
          userId: 'ada',
          permissions: { canRead: ['*'], canWrite: ['*'], isAdmin: false },
        }),
      },
    })
    const client = await subscribed(url, 'room')
    client.sendJson({
      type: 'awareness_update',
      documentId: 'room',
      clientId: 'c-ada',
      state: { on: 1 },
      clock: 1,
    })
    await until(() => sync.stats().awarenessClients === 1)
    expect(await sync.documents.presence('room')).toEqual([
      { clientId: 'c-ada', state: { on: 1 }, userId: 'ada' },
    ])
    expect((await rejection(sync.documents.presence('bad id'))).code).toBe('INVALID_INPUT')
  })
})
