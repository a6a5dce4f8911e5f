import { afterEach, expect, it } from 'vitest'
import { attachWebSocketServer } from '../../adapters/ws.js'
import { closeBoard, finishJob, listJobs, rename } from '../../examples/documents.js'
import { createSyncServer, MemoryStore } from '../../src/index.js'
import { CODES, RawClient, type Received, withCode } from './server-client.js'

/** docs/documents.md's example (examples/documents.ts), run against a server and a socket client. */

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

it('writes, lists, refuses, reports presence and deletes as the docs say', async () => {
  const store = new MemoryStore()
  const sync = createSyncServer({
    auth: { required: false },
    store,
    validate: {
      'board:*': { fields: {} },
      '*': (write) => (write.field === 'title' && typeof write.value !== 'string' ? 'a string' : true),
    },
  })
  const attached = await attachWebSocketServer(sync, { port: 0, host: '127.0.0.1' })
  cleanups.push(
    () => sync.close(),
    () => attached.close(),
  )
  const client = await RawClient.connect(`ws://127.0.0.1:${attached.port}/ws`)
  cleanups.push(async () => client.ws.terminate())
  client.send(CODES.subscribe, { documentId: 'job:7' })
  await client.next(withCode(CODES.sync_response))

  await sync.documents.update('job:7', { set: { status: 'running', progress: 40 } })
  const view = await finishJob(sync, '7', 'ok')
  expect(view.fields).toMatchObject({ status: 'done', result: 'ok' })
  expect(view.fields.progress).toBeUndefined()
  const isResult = (frame: Received) => frame.code === CODES.delta && frame.payload.field === 'result'
  expect((await client.next(isResult)).payload.value).toBe('ok')
  expect((await store.load('job:7'))?.registers.find((r) => r.field === 'result')?.value).toBe('ok')

  for (const id of ['job:1', 'job:2', 'other']) await sync.documents.update(id, { set: { status: 'queued' } })
  const jobs = await listJobs(sync)
  expect(Object.keys(jobs)).toEqual(['job:1', 'job:2', 'job:7'])
  expect(jobs['job:1']).toEqual({ status: 'queued' })

  expect(await rename(sync, 'job:1', 'Nightly')).toBe('renamed')
  expect(await rename(sync, 'job:1', 42)).toBe('refused')

  client.sendJson({
    type: 'awareness_update',
    documentId: 'job:7',
    clientId: 'tab-1',
    state: { on: true },
    clock: 1,
  })
  await new Promise((resolve) => setTimeout(resolve, 50))
  expect(await closeBoard(sync, 'job:7')).toEqual(['tab-1'])
  expect((await client.next(withCode(CODES.error))).payload.details).toMatchObject({
    code: 'DOCUMENT_DELETED',
  })
  expect(await sync.documents.get('job:7')).toBeUndefined()
})
