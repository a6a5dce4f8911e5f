import * as v from 'valibot'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { attachWebSocketServer } from '../../adapters/ws.js'
import { createSyncServer, MemoryStore, type SyncServerOptions } from '../../src/server/index.js'
import { CODES, RawClient, type Received, withCode } from './server-client.js'

/** `validate` over a real socket: a refused field rolls back, a good one in the same document is stored. */

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function start(options: SyncServerOptions) {
  const store = new MemoryStore()
  const sync = createSyncServer({ auth: { required: false }, store, ...options })
  const attached = await attachWebSocketServer(sync, { port: 0, host: '127.0.0.1' })
  cleanups.push(
    () => sync.close(),
    () => attached.close(),
  )
  const client = await RawClient.connect(`ws://127.0.0.1:${attached.port}/ws`)
  cleanups.push(async () => client.ws.terminate())
  return { sync, store, client }
}

const SCHEMAS: [string, SyncServerOptions['validate']][] = [
  ['zod', { 'todo:*': { fields: { title: z.string().max(200), done: z.boolean() } } }],
  ['valibot', { 'todo:*': { fields: { title: v.pipe(v.string(), v.maxLength(200)), done: v.boolean() } } }],
]

for (const [library, validate] of SCHEMAS) {
  it(`a ${library} schema refuses a bad value with the rollback echo while a good value goes through`, async () => {
    const { store, client } = await start({ validate })
    client.send(CODES.subscribe, { documentId: 'todo:1' })
    await client.next(withCode(CODES.sync_response))
    client.send(CODES.delta, { documentId: 'todo:1', delta: { title: 'Buy milk' }, messageId: 'good' })
    expect((await client.next(withCode(CODES.ack))).payload.messageId).toBe('good')
    client.send(CODES.delta, { documentId: 'todo:1', delta: { done: 'yes' }, messageId: 'bad' })
    const error = await client.next(withCode(CODES.error))
    expect(error.payload.details).toMatchObject({
      code: 'VALIDATION_FAILED',
      documentId: 'todo:1',
      field: 'done',
    })
    const isRollback = (frame: Received) => frame.code === CODES.delta && frame.payload.field === 'done'
    expect((await client.next(isRollback)).payload).toMatchObject({
      value: { __deleted: true },
      clientId: 'server',
    })
    expect(client.received.some((f) => f.code === CODES.ack && f.payload.messageId === 'bad')).toBe(false)
    const stored = await store.load('todo:1')
    expect(stored?.registers.map((r) => [r.field, r.value])).toEqual([['title', 'Buy milk']])
  })
}

describe('validate at startup', () => {
  it('createSyncServer refuses an async schema with an error naming it', () => {
    expect(() =>
      createSyncServer({
        validate: { 'todo:*': { fields: { title: z.string().refine(async () => true) } } },
      }),
    ).toThrow(/validate\["todo:\*"\]\.fields\["title"\]: the schema validates asynchronously/)
  })

  it('reports a validator that throws as an error event (operation validate)', async () => {
    const { sync, client } = await start({
      validate: {
        '*': () => {
          throw new Error('oops')
        },
      },
    })
    const errors: string[] = []
    sync.on('error', (error, context) =>
      errors.push(`${context.operation}:${context.documentId}:${error.message}`),
    )
    client.send(CODES.delta, { documentId: 'doc', delta: { a: 1 } })
    await client.next(withCode(CODES.error))
    expect(errors).toEqual(['validate:doc:validate: validator threw: oops'])
  })
})
