import { afterEach, expect, it } from 'vitest'
import { startTodoServer } from '../../examples/embed.js'
import type { DocumentChangeEvent, Principal } from '../../src/index.js'
import { probeUpgrade } from '../helpers/upgrade-probe.js'
import { CODES, RawClient, withCode } from './server-client.js'

/** The README's embed snippet (examples/embed.ts), run: the door, validation, the hook, the event. */

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

it('admits a session, seeds a todo, refuses a bad value and reports the good one', async () => {
  const alice: Principal = {
    userId: 'alice',
    permissions: { canRead: ['*'], canWrite: ['*'], isAdmin: false },
  }
  const audit: DocumentChangeEvent[] = []
  const { sync, server } = await startTodoServer({
    sessions: { principalOf: (sid) => (sid === 's-1' ? alice : undefined) },
    audit: { record: (change) => audit.push(change) },
    port: 0,
  })
  cleanups.push(
    () => sync.close(),
    () => server.close(),
  )
  const url = `ws://127.0.0.1:${server.port}/ws`
  expect((await probeUpgrade(url, { cookie: 'sid=nope' })).status).toBe(401)
  const client = await RawClient.connect(url, { cookie: 'sid=s-1', origin: 'https://app.example.com' })
  cleanups.push(async () => client.ws.terminate())
  client.send(CODES.subscribe, { documentId: 'todo:1' })
  expect((await client.next(withCode(CODES.sync_response))).payload.state).toEqual({ title: '', done: false })
  client.send(CODES.delta, { documentId: 'todo:1', delta: { done: 'yes' } })
  expect((await client.next(withCode(CODES.error))).payload.details).toMatchObject({
    code: 'VALIDATION_FAILED',
  })
  client.send(CODES.delta, { documentId: 'todo:1', delta: { title: 'Write the docs' }, messageId: 'm' })
  await client.next(withCode(CODES.ack))
  expect(
    audit.map((c) => [
      c.actor.kind === 'connection' ? c.actor.userId : c.actor.kind,
      c.fields.map((f) => f.field),
    ]),
  ).toEqual([
    ['server', ['title', 'done']],
    ['alice', ['title']],
  ])
})
