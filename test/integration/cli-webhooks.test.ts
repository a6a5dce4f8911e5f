import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createSyncClient } from '../../src/client/index.js'
import type { SyncClient } from '../../src/client/types.js'
import { type NodeProcess, startNode } from '../helpers/node-process.js'
import { waitFor, within } from '../helpers/wait-for.js'
import { startReceiver, TEST_SECRET } from '../helpers/webhook-receiver.js'

/** `SYNCKIT_WEBHOOK_*` in a real `synckit-engine` process, against a receiver that verifies. */

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const receiver = () => startReceiver(cleanups)

async function node(env: Record<string, string>): Promise<NodeProcess> {
  const started = await startNode({ nodeId: 'hooks-node', storage: 'memory', env })
  cleanups.push(() => started.kill())
  return started
}

async function writer(url: string, documentId: string): Promise<SyncClient> {
  const client = createSyncClient({ url, WebSocket, reconnect: false, requestTimeoutMs: 10_000 })
  cleanups.push(async () => client.close())
  await within(client.connect(), 10_000, 'connect')
  await within(client.subscribe(documentId), 10_000, 'subscribe')
  return client
}

interface ChangedPayload {
  type: string
  data: { documentId: string; set: Record<string, unknown>; delete: string[] }
}

describe('synckit-engine start with SYNCKIT_WEBHOOK_URL', () => {
  it('delivers a signed document.changed after a client write, and counts it on /metrics', async () => {
    const r = await receiver()
    const server = await node({ SYNCKIT_WEBHOOK_URL: r.url, SYNCKIT_WEBHOOK_SECRET: TEST_SECRET })
    expect(server.stdout()).toContain(`Webhooks   ${r.url}`)
    const client = await writer(server.url, 'hooked')
    await within(client.setMany('hooked', { title: 'Hello', n: 1 }), 10_000, 'write')
    await within(client.delete('hooked', 'n'), 10_000, 'delete')

    // One call per document per second: the two writes are usually one call; fold them anyway.
    const state: Record<string, unknown> = {}
    const folded = () => {
      for (const key of Object.keys(state)) delete state[key]
      for (const { data } of r.delivered().map((d) => d.payload as ChangedPayload)) {
        Object.assign(state, data.set)
        for (const field of data.delete) state[field] = '<deleted>'
      }
      return state
    }
    await waitFor(() => folded().n === '<deleted>', { timeoutMs: 10_000, message: 'both writes delivered' })
    expect(folded()).toEqual({ title: 'Hello', n: '<deleted>' })
    expect(r.received.every((d) => d.verifyError === undefined)).toBe(true)
    for (const { payload } of r.delivered()) {
      expect(payload).toMatchObject({ type: 'document.changed', data: { documentId: 'hooked' } })
    }

    const metrics = await (await fetch(`${server.httpUrl}/metrics`)).text()
    expect(metrics).toMatch(new RegExp(`^synckit_webhook_delivered_total ${r.delivered().length}$`, 'm'))
    expect(metrics).toMatch(/^synckit_webhook_dropped_total 0$/m)
    expect(metrics).toMatch(/^synckit_connections_total 1$/m)
  }, 60_000)

  it('delivers a change still in its coalescing window when the server is stopped (SIGTERM)', async () => {
    const r = await receiver()
    const server = await node({ SYNCKIT_WEBHOOK_URL: r.url, SYNCKIT_WEBHOOK_SECRET: TEST_SECRET })
    const client = await writer(server.url, 'last-words')
    await within(client.set('last-words', 'status', 'done'), 10_000, 'write')
    // Well inside the 1 s window: nothing has been sent yet.
    expect(r.received).toHaveLength(0)
    server.child.kill('SIGTERM')
    expect(await within(server.exit, 15_000, 'exit after SIGTERM')).toBe(0)
    expect(r.delivered().map((d) => (d.payload as ChangedPayload).data)).toEqual([
      { documentId: 'last-words', actors: expect.any(Array), set: { status: 'done' }, delete: [] },
    ])
  }, 60_000)

  it('refuses an incomplete configuration at startup: exit 1 naming the variable', async () => {
    const { spawnNode } = await import('../helpers/node-process.js')
    const run = spawnNode({
      nodeId: 'bad-hooks',
      storage: 'memory',
      env: { SYNCKIT_WEBHOOK_URL: 'https://hooks.example/x' },
    })
    expect(await within(run.exit, 20_000, 'exit')).toBe(1)
    expect(run.stderr()).toContain(
      'synckit-engine: SYNCKIT_WEBHOOK_URL is set without SYNCKIT_WEBHOOK_SECRET',
    )
    expect(run.stdout()).toBe('')
  }, 30_000)
})
