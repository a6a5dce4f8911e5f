import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../../adapters/postgres.js'
import { createRedisBroker } from '../../adapters/redis.js'
import { attachWebSocketServer } from '../../adapters/ws.js'
import { consoleLogger, createSyncServer, type SyncServer } from '../../src/index.js'
import { dropSchema, postgresAvailable, redisAvailable, testSchemaName } from '../helpers/services.js'
import { waitFor } from '../helpers/wait-for.js'
import { CODES, RawClient, type Received, withCode } from '../integration/server-client.js'
import { cleanRedisPrefix, testRedisPrefix } from './support.js'

/**
 * `sync.documents` across two nodes sharing a Postgres schema and a Redis prefix: what node A's
 * API does reaches the socket clients of node B, as a client's write on A would.
 */
const pg = await postgresAvailable()
const redis = await redisAvailable()
const skip = 'skip' in pg ? pg.skip : 'skip' in redis ? redis.skip : undefined
if (skip) console.log(`[cluster documents] skipped: ${skip}`)
const suite = skip ? describe.skip : describe
const pgUrl = 'url' in pg ? pg.url : ''
const redisUrl = 'url' in redis ? redis.url : ''

const schema = testSchemaName()
const prefix = testRedisPrefix()
const cleanups: (() => Promise<void>)[] = []
let a: SyncServer
let b: SyncServer
let urlB = ''

async function startNode(nodeId: string): Promise<{ sync: SyncServer; url: string }> {
  const store = await createPostgresStore({ url: pgUrl, schema, max: 2 })
  const broker = createRedisBroker({ url: redisUrl, nodeId, prefix })
  const sync = createSyncServer({
    nodeId,
    auth: { required: false },
    store,
    broker,
    logger: consoleLogger({ level: 'silent' }),
  })
  const attached = await attachWebSocketServer(sync, { port: 0, host: '127.0.0.1' })
  cleanups.push(
    () => sync.close(),
    () => attached.close(),
  )
  await waitFor(() => broker.health(), { timeoutMs: 10_000, message: `${nodeId} broker healthy` })
  return { sync, url: `ws://127.0.0.1:${attached.port}/ws` }
}

async function subscribedOn(url: string, documentId: string): Promise<RawClient> {
  const client = await RawClient.connect(url)
  cleanups.push(async () => client.ws.terminate())
  client.send(CODES.subscribe, { documentId })
  await client.next(withCode(CODES.sync_response))
  return client
}

const deltaOf = (documentId: string, field: string) => (frame: Received) =>
  frame.code === CODES.delta && frame.payload.documentId === documentId && frame.payload.field === field

suite('sync.documents on two nodes (Postgres + Redis)', () => {
  beforeAll(async () => {
    // One at a time: the second migrates an already migrated schema.
    a = (await startNode('docs-node-a')).sync
    const second = await startNode('docs-node-b')
    b = second.sync
    urlB = second.url
  }, 60_000)

  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {})
    if (pgUrl) await dropSchema(pgUrl, schema)
    if (redisUrl) await cleanRedisPrefix(redisUrl, prefix)
  })

  it("an update through node A's API reaches a socket client on node B", async () => {
    const client = await subscribedOn(urlB, 'shared-board')
    const view = await a.documents.update('shared-board', { set: { title: 'from A' } }, { actor: 'job' })
    expect(view.fields).toEqual({ title: 'from A' })
    const echo = await client.next(deltaOf('shared-board', 'title'), 10_000)
    expect(echo.payload.value).toBe('from A')
    // Durable before it resolved: node B reads it from memory, a fresh read from the store agrees.
    expect((await b.documents.get('shared-board'))?.fields).toEqual({ title: 'from A' })
  })

  it('a delete on node A evicts the document on node B and tells its subscribers', async () => {
    await a.documents.update('doomed', { set: { x: 1 } })
    const client = await subscribedOn(urlB, 'doomed')
    expect(b.documentState('doomed')).toEqual({ x: 1 })
    const deletedOnB: unknown[] = []
    b.on('document-deleted', (event) => deletedOnB.push(event))
    expect(await a.documents.delete('doomed', { actor: 'admin' })).toBe(true)
    const error = await client.next(withCode(CODES.error), 10_000)
    expect(error.payload.details).toEqual({ code: 'DOCUMENT_DELETED', documentId: 'doomed' })
    await waitFor(() => b.documentState('doomed') === undefined, { timeoutMs: 5000, message: 'evicted on B' })
    expect(deletedOnB).toEqual([{ documentId: 'doomed', origin: 'remote' }])
    expect(await b.documents.get('doomed')).toBeUndefined()
    expect(await a.documents.list({ prefix: 'doomed' })).toEqual({ documents: [] })
  })

  it("presence on node A lists node B's present clients", async () => {
    const client = await subscribedOn(urlB, 'meeting')
    client.sendJson({
      type: 'awareness_update',
      documentId: 'meeting',
      clientId: 'tab-b',
      state: { x: 1 },
      clock: 1,
    })
    await waitFor(() => b.stats().awarenessClients === 1, { timeoutMs: 5000, message: 'present on B' })
    expect(await a.documents.presence('meeting')).toEqual([{ clientId: 'tab-b', state: { x: 1 } }])
  })
})
