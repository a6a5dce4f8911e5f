import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it } from 'vitest'
import { createWebhookReceiver, type SyncEvent } from '../../examples/webhook-receiver.js'
import { sendWebhooks, shutdown } from '../../examples/webhooks.js'
import { createSyncServer } from '../../src/server/index.js'
import { createWebhookDispatcher } from '../../src/webhooks/index.js'
import { TEST_SECRET } from '../helpers/webhook-receiver.js'
import { FakeSocket, frame, waitFor } from '../unit/server-fakes.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function start(handle: (event: SyncEvent) => Promise<void>): Promise<string> {
  const server = createWebhookReceiver(TEST_SECRET, handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
}

describe('docs/webhooks.md receiver example', () => {
  it('is examples/webhook-receiver.ts, verbatim', () => {
    const doc = readFileSync(new URL('../../docs/webhooks.md', import.meta.url), 'utf8')
    const file = readFileSync(new URL('../../examples/webhook-receiver.ts', import.meta.url), 'utf8')
    expect(doc).toContain(`<!-- snippet: examples/webhook-receiver.ts -->\n\`\`\`ts\n${file}\`\`\``)
  })

  it('handles a delivered event once, and a failure of its handler is retried', async () => {
    const events: SyncEvent[] = []
    let failures = 1
    const url = await start(async (event) => {
      if (failures-- > 0) throw new Error('database busy')
      events.push(event)
    })
    const webhooks = createWebhookDispatcher({ endpoints: [{ url, secret: TEST_SECRET }], retryBaseMs: 10 })
    cleanups.push(() => webhooks.close())
    webhooks.documentChanged({
      documentId: 'd',
      actor: 'u1',
      fields: [{ field: 'a', value: [1], deleted: false }],
    })
    await waitFor(() => webhooks.stats().delivered === 1, 5000, 'delivered')
    expect(webhooks.stats().retries).toBe(1)
    expect(events).toEqual([
      {
        type: 'document.changed',
        timestamp: expect.any(String),
        data: { documentId: 'd', actors: ['u1'], set: { a: [1] }, delete: [] },
      },
    ])
  })

  it('refuses a forged or altered request, and skips a replayed message id', async () => {
    const events: SyncEvent[] = []
    const url = await start(async (event) => {
      events.push(event)
    })
    const body = JSON.stringify({
      type: 'document.deleted',
      timestamp: new Date().toISOString(),
      data: { documentId: 'x' },
    })
    const post = (secret: string, payload: string, id = 'msg_1') => {
      const now = new Date()
      return fetch(url, {
        method: 'POST',
        headers: {
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': new Webhook(secret).sign(id, now, payload),
        },
        body: payload,
      }).then((res) => res.status)
    }
    const other = `whsec_${Buffer.alloc(32, 9).toString('base64')}`
    expect(await post(other, body)).toBe(401)
    expect(await post(TEST_SECRET, body)).toBe(204)
    expect(await post(TEST_SECRET, body)).toBe(204) // the same id again: acknowledged, not handled twice
    expect(events).toHaveLength(1)
    const altered = await fetch(url, {
      method: 'POST',
      headers: {
        'webhook-id': 'msg_2',
        'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
        'webhook-signature': new Webhook(TEST_SECRET).sign('msg_2', new Date(), body),
      },
      body: body.replace('"x"', '"y"'),
    })
    expect(altered.status).toBe(401)
    expect(events).toHaveLength(1)
  })
})

describe('docs/webhooks.md configuration example (examples/webhooks.ts)', () => {
  it('sends a signed change, counts it on /metrics, and delivers the last change at shutdown', async () => {
    const events: SyncEvent[] = []
    const url = await start(async (event) => {
      events.push(event)
    })
    const sync = createSyncServer({ auth: { required: false } })
    const webhooks = sendWebhooks(sync, url, TEST_SECRET)
    const handle = sync.handleConnection(new FakeSocket(), { remoteAddress: '127.0.0.1' })
    handle.receive(frame('delta', { documentId: 'board-7', delta: { title: 'Roadmap' } }, 'json'))
    await waitFor(() => events.length === 1, 5000, 'first call')
    // The receiver handled it before its 2xx reached the dispatcher, which counts it then.
    await waitFor(() => webhooks.stats().delivered === 1, 5000, 'first call answered')
    expect(await (await sync.fetch(new Request('http://localhost/metrics'))).text()).toMatch(
      /^synckit_webhook_delivered_total 1$/m,
    )
    // Inside the next coalescing window (1 s): only the shutdown sends it.
    handle.receive(frame('delta', { documentId: 'board-7', delta: { owner: 'ada' } }, 'json'))
    await shutdown(sync, webhooks)
    expect(events.map((event) => event.data)).toEqual([
      { documentId: 'board-7', actors: expect.any(Array), set: { title: 'Roadmap' }, delete: [] },
      { documentId: 'board-7', actors: expect.any(Array), set: { owner: 'ada' }, delete: [] },
    ])
    expect(webhooks.stats()).toMatchObject({ delivered: 2, abandoned: 0 })
  })
})
