import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { attachWebSocketServer } from '../../adapters/ws.js'
import type { DocumentChangeEvent, SyncServerOptions } from '../../src/server/index.js'
import { createSyncServer } from '../../src/server/index.js'
import { createPgliteStore } from '../../src/storage/pglite.js'
import { CODES, RawClient, withCode } from './server-client.js'

/** `onLoadDocument` and the `document-change` actor, over real sockets and a persistent store. */

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function serve(options: SyncServerOptions) {
  const sync = createSyncServer({ auth: { required: false }, ...options })
  const attached = await attachWebSocketServer(sync, { port: 0, host: '127.0.0.1' })
  const url = `ws://127.0.0.1:${attached.port}/ws`
  const stop = async () => {
    await sync.close()
    await attached.close()
  }
  return { sync, url, stop }
}

async function connect(url: string): Promise<RawClient> {
  const client = await RawClient.connect(url)
  cleanups.push(async () => client.ws.terminate())
  return client
}

describe('onLoadDocument', () => {
  it('seeds a new document once: after a restart on the same PGlite data dir it is loaded, not seeded', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'synckit-seed-'))
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }))
    const calls: string[] = []
    const onLoadDocument: SyncServerOptions['onLoadDocument'] = ({ documentId }) => {
      calls.push(documentId)
      return documentId.startsWith('board:')
        ? { title: 'Untitled board', columns: ['todo', 'done'] }
        : undefined
    }

    const first = await serve({ store: await createPgliteStore({ dataDir }), onLoadDocument })
    const changes: DocumentChangeEvent[] = []
    first.sync.on('document-change', (event) => changes.push(event))
    const a = await connect(first.url)
    a.send(CODES.subscribe, { documentId: 'board:1' })
    expect((await a.next(withCode(CODES.sync_response))).payload.state).toEqual({
      title: 'Untitled board',
      columns: ['todo', 'done'],
    })
    a.send(CODES.delta, { documentId: 'board:1', delta: { title: 'Sprint 12' }, messageId: 'w' })
    await a.next(withCode(CODES.ack))
    a.send(CODES.subscribe, { documentId: 'notes' })
    expect(
      (await a.next((f) => f.code === CODES.sync_response && f.payload.documentId === 'notes')).payload.state,
    ).toEqual({})
    expect(changes.map((c) => [c.actor.kind, c.fields.map((f) => f.field)])).toEqual([
      ['server', ['title', 'columns']],
      ['connection', ['title']],
    ])
    await first.stop()
    expect(calls).toEqual(['board:1', 'notes'])

    calls.length = 0
    const second = await serve({ store: await createPgliteStore({ dataDir }), onLoadDocument })
    cleanups.push(second.stop)
    const b = await connect(second.url)
    b.send(CODES.subscribe, { documentId: 'board:1' })
    expect((await b.next(withCode(CODES.sync_response))).payload.state).toEqual({
      title: 'Sprint 12',
      columns: ['todo', 'done'],
    })
    expect(calls).toEqual([])
  }, 60_000)

  it('gets the context of the connection that needs the document; a throwing hook fails the load', async () => {
    const seen: unknown[] = []
    const { sync, url, stop } = await serve({
      auth: {
        required: false,
        authenticate: ({ url }) => ({ context: { tenant: new URL(url, 'http://x').searchParams.get('t') } }),
      },
      onLoadDocument: ({ documentId, context }) => {
        seen.push([documentId, context])
        if (documentId === 'broken') throw new Error('template service down')
        return { owner: (context as { tenant: string }).tenant }
      },
    })
    cleanups.push(stop)
    const errors: string[] = []
    sync.on('error', (error, context) =>
      errors.push(`${context.operation}:${context.documentId}:${error.message}`),
    )
    const c = await RawClient.connect(`${url}?t=acme`)
    cleanups.push(async () => c.ws.terminate())
    c.send(CODES.subscribe, { documentId: 'doc' })
    expect((await c.next(withCode(CODES.sync_response))).payload.state).toEqual({ owner: 'acme' })
    c.send(CODES.subscribe, { documentId: 'broken' })
    expect((await c.next(withCode(CODES.error))).payload.details).toMatchObject({
      code: 'LOAD_FAILED',
      documentId: 'broken',
    })
    expect(seen).toEqual([
      ['doc', { tenant: 'acme' }],
      ['broken', { tenant: 'acme' }],
    ])
    expect(errors).toEqual(['load:broken:template service down'])
  })
})

describe('document-change', () => {
  it('names each writer of a turn, with the changed fields and their values', async () => {
    const { sync, url, stop } = await serve({
      auth: { required: false, authenticate: () => ({ context: { app: 'web' } }) },
    })
    cleanups.push(stop)
    const changes: DocumentChangeEvent[] = []
    sync.on('document-change', (event) => changes.push(event))
    const a = await connect(url)
    a.send(CODES.delta, { documentId: 'd', delta: { title: 'T', gone: { __deleted: true } }, messageId: 'a' })
    await a.next(withCode(CODES.ack))
    expect(changes).toHaveLength(1)
    expect(changes[0]).toMatchObject({
      documentId: 'd',
      origin: 'local',
      actor: { kind: 'connection', userId: 'anonymous' },
      context: { app: 'web' },
      fields: [
        { field: 'title', value: 'T', deleted: false },
        { field: 'gone', value: null, deleted: true },
      ],
    })
    expect(changes[0]?.actor.kind === 'connection' && changes[0].actor.connectionId).toMatch(/^conn-/)
  })
})
