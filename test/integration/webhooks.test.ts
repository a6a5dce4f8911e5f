import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { createSyncServer, type SyncServer } from '../../src/server/index.js'
import {
  attachWebhooks,
  createWebhookDispatcher,
  type WebhookDispatcher,
  type WebhookLogger,
  type WebhookOptions,
} from '../../src/webhooks/index.js'
import { registerWebhookMetrics } from '../../src/webhooks/metrics.js'
import { type ReceivedWebhook, startReceiver, TEST_SECRET } from '../helpers/webhook-receiver.js'
import { FakeSocket, frame, waitFor } from '../unit/server-fakes.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const receiver = () => startReceiver(cleanups)

function server(): SyncServer {
  const sync = createSyncServer({ auth: { required: false } })
  cleanups.push(() => sync.close())
  return sync
}

function connect(sync: SyncServer) {
  const socket = new FakeSocket()
  const handle = sync.handleConnection(socket, { remoteAddress: '127.0.0.1' })
  return {
    socket,
    write(documentId: string, delta: Record<string, unknown>) {
      handle.receive(frame('delta', { documentId, delta }, 'json'))
    },
    presence(documentId: string, clientId: string, state: Record<string, unknown> | null, clock: number) {
      handle.receive(frame('awareness_update', { documentId, clientId, state, clock }, 'json'))
    },
  }
}

function capture(): { logger: WebhookLogger; lines: { message: string; fields: Record<string, unknown> }[] } {
  const lines: { message: string; fields: Record<string, unknown> }[] = []
  return { lines, logger: { warn: (fields, message) => lines.push({ message, fields }) } }
}

function attach(sync: SyncServer, options: WebhookOptions): WebhookDispatcher {
  const webhooks = attachWebhooks(sync, options)
  cleanups.push(() => webhooks.close())
  return webhooks
}

/** The `data` of a received webhook body (undefined when there is none). */
const dataOf = (call: ReceivedWebhook | undefined): unknown =>
  (call?.payload as { data?: unknown } | undefined)?.data

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('webhooks against a real receiver', () => {
  it('a committed change becomes one signed POST with the changed fields and values', async () => {
    const r = await receiver()
    const sync = server()
    attach(sync, { endpoints: [{ url: r.url, secret: TEST_SECRET }], coalesceMs: 50 })
    const client = connect(sync)
    client.write('doc-1', { title: 'hello', count: 3, nothing: null, nested: { a: [1, { b: true }] } })
    await waitFor(() => r.received.length === 1, 5000, 'one webhook')
    const [call] = r.received
    expect(call?.verifyError).toBeUndefined()
    expect(call?.headers['content-type']).toBe('application/json')
    expect(call?.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/)
    expect(Math.abs(Number(call?.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60)
    expect(call?.payload).toEqual({
      type: 'document.changed',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: {
        documentId: 'doc-1',
        actors: ['anonymous'],
        set: { title: 'hello', count: 3, nothing: null, nested: { a: [1, { b: true }] } },
        delete: [],
      },
    })
    // A delete is reported as such, not as a value.
    client.write('doc-1', { title: { __deleted: true } })
    await waitFor(() => r.received.length === 2, 5000, 'second webhook')
    expect(dataOf(r.received[1])).toEqual({
      documentId: 'doc-1',
      actors: ['anonymous'],
      set: {},
      delete: ['title'],
    })
    await sleep(150)
    expect(r.received).toHaveLength(2)
  })

  it('a receiver that fails (500s, then a timeout) and recovers gets the message, same id', async () => {
    const r = await receiver()
    r.behaviour = (i) => (i < 2 ? 500 : i === 2 ? 'hang' : 200)
    const sync = server()
    const webhooks = attach(sync, {
      endpoints: [{ url: r.url, secret: TEST_SECRET }],
      coalesceMs: 20,
      timeoutMs: 300,
      retryBaseMs: 20,
      retryMaxMs: 100,
    })
    connect(sync).write('doc-r', { status: 'done' })
    // The receiver records a request before the sender reads the answer: wait for both.
    await waitFor(() => webhooks.stats().delivered === 1, 10_000, 'delivery after recovery')
    expect(r.received).toHaveLength(4)
    expect(r.received.every((call) => call.verifyError === undefined)).toBe(true)
    expect(new Set(r.received.map((call) => call.headers['webhook-id'])).size).toBe(1)
    expect(dataOf(r.delivered()[0])).toEqual({
      documentId: 'doc-r',
      actors: ['anonymous'],
      set: { status: 'done' },
      delete: [],
    })
    const stats = webhooks.stats()
    expect(stats).toMatchObject({ delivered: 1, retries: 3, failed: 0, dropped: 0, queued: 0 })
  })

  it('a receiver that never answers keeps the queue bounded in count, drops the oldest and counts it', async () => {
    const r = await receiver()
    r.behaviour = () => 'hang'
    const { logger, lines } = capture()
    const sync = server()
    const maxQueueSize = 5
    const webhooks = attach(sync, {
      endpoints: [{ url: r.url, secret: TEST_SECRET }],
      coalesceMs: 5,
      timeoutMs: 60_000,
      maxQueueSize,
      closeTimeoutMs: 100,
      logger,
    })
    const client = connect(sync)
    let maxQueued = 0
    for (let i = 0; i < 40; i++) {
      client.write(`doc-${i}`, { i })
      await sleep(10)
      maxQueued = Math.max(maxQueued, webhooks.stats().queued)
    }
    await waitFor(() => webhooks.stats().pendingDocuments === 0, 2000, 'windows closed')
    const stats = webhooks.stats()
    expect(maxQueued).toBeLessThanOrEqual(maxQueueSize)
    expect(stats.queued).toBe(maxQueueSize)
    expect(stats.dropped).toBe(40 - maxQueueSize)
    expect(stats.delivered).toBe(0)
    // One line when the burst starts; none per drop.
    expect(lines.filter((l) => l.message.includes('overflow'))).toHaveLength(1)
    // The oldest went: the request on the wire now is the oldest of the five newest documents.
    const lastSent = () =>
      (r.received.at(-1)?.payload as { data?: { documentId?: string } } | undefined)?.data
    await waitFor(
      () => lastSent()?.documentId === `doc-${40 - maxQueueSize}`,
      2000,
      'head is the oldest kept',
    )
    // On the server's GET /metrics, after its own metrics.
    registerWebhookMetrics(sync, () => webhooks.stats())
    const scrape = await (await sync.fetch(new Request('http://localhost/metrics'))).text()
    expect(scrape).toContain(`\nsynckit_webhook_dropped_total ${40 - maxQueueSize}\n`)
    expect(scrape).toContain(`\nsynckit_webhook_queued ${maxQueueSize}\n`)
    expect(scrape.indexOf('synckit_connections_total')).toBeLessThan(scrape.indexOf('synckit_webhook'))
    expect(sync.metrics()).toBe(scrape)
    const started = Date.now()
    await webhooks.close()
    expect(Date.now() - started).toBeLessThan(2000)
    expect(webhooks.stats()).toMatchObject({ queued: 0, abandoned: maxQueueSize })
  })

  it('keeps queued bytes under maxQueueBytes with large bodies', async () => {
    const r = await receiver()
    r.behaviour = () => 'hang'
    const { logger } = capture()
    const maxQueueBytes = 5000
    const webhooks = createWebhookDispatcher({
      endpoints: [{ url: r.url, secret: TEST_SECRET }],
      coalesceMs: 1,
      timeoutMs: 60_000,
      maxQueueBytes,
      closeTimeoutMs: 50,
      logger,
    })
    cleanups.push(() => webhooks.close())
    let maxBytes = 0
    for (let i = 0; i < 30; i++) {
      webhooks.documentChanged({
        documentId: `big-${i}`,
        fields: [{ field: 'blob', value: 'x'.repeat(1000), deleted: false }],
      })
      await sleep(3)
      maxBytes = Math.max(maxBytes, webhooks.stats().queuedBytes)
    }
    await waitFor(() => webhooks.stats().pendingDocuments === 0, 2000, 'windows closed')
    const stats = webhooks.stats()
    expect(maxBytes).toBeLessThanOrEqual(maxQueueBytes)
    expect(stats.queued).toBeGreaterThanOrEqual(3)
    expect(stats.queued + stats.dropped).toBe(30)
  })

  it('coalesces a burst: many writes to one document within the interval make one call with every field', async () => {
    const r = await receiver()
    const sync = server()
    attach(sync, { endpoints: [{ url: r.url, secret: TEST_SECRET }], coalesceMs: 400 })
    const client = connect(sync)
    for (let round = 0; round < 5; round++) {
      for (let f = 0; f < 20; f++) client.write('burst', { [`f${f}`]: round * 100 + f })
      await sleep(5) // separate I/O turns: separate document-change events
    }
    client.write('burst', { f3: { __deleted: true } })
    await waitFor(() => r.received.length === 1, 5000, 'the coalesced call')
    await sleep(100)
    expect(r.received).toHaveLength(1)
    const data = dataOf(r.received[0]) as { set: Record<string, number>; delete: string[] }
    const expected: Record<string, number> = {}
    for (let f = 0; f < 20; f++) if (f !== 3) expected[`f${f}`] = 400 + f
    expect(data.set).toEqual(expected)
    expect(data.delete).toEqual(['f3'])
    // The next interval is a new call.
    client.write('burst', { f0: 'again' })
    await waitFor(() => r.received.length === 2, 5000, 'the next interval')
    expect(dataOf(r.received[1])).toEqual({
      documentId: 'burst',
      actors: ['anonymous'],
      set: { f0: 'again' },
      delete: [],
    })
  })

  it('sends document.deleted (after the pending change of that document) and honours event filters', async () => {
    const changes = await receiver()
    const deletions = await receiver()
    const webhooks = createWebhookDispatcher({
      endpoints: [
        { url: changes.url, secret: TEST_SECRET },
        { url: deletions.url, secret: TEST_SECRET, events: ['document.deleted'] },
      ],
      coalesceMs: 10_000,
    })
    cleanups.push(() => webhooks.close())
    webhooks.documentChanged({
      documentId: 'gone',
      actor: 'u1',
      fields: [{ field: 'a', value: 1, deleted: false }],
    })
    webhooks.documentDeleted('gone', { actor: 'admin' })
    await waitFor(() => changes.received.length === 2 && deletions.received.length === 1, 5000, 'calls')
    expect(changes.received.map((c) => c.payload)).toEqual([
      {
        type: 'document.changed',
        timestamp: expect.any(String),
        data: { documentId: 'gone', actors: ['u1'], set: { a: 1 }, delete: [] },
      },
      {
        type: 'document.deleted',
        timestamp: expect.any(String),
        data: { documentId: 'gone', actor: 'admin' },
      },
    ])
    expect(deletions.received.map((c) => (c.payload as { type: string }).type)).toEqual(['document.deleted'])
    expect(deletions.received[0]?.verifyError).toBeUndefined()
  })

  it('sends presence.changed only to endpoints that ask for it, coalesced per document', async () => {
    const r = await receiver()
    const quiet = await receiver()
    const sync = server()
    attach(sync, {
      endpoints: [
        { url: r.url, secret: TEST_SECRET, events: ['presence.changed'] },
        { url: quiet.url, secret: TEST_SECRET },
      ],
      coalesceMs: 200,
    })
    const client = connect(sync)
    client.presence('room', 'alice', { cursor: 1 }, 1)
    client.presence('room', 'alice', { cursor: 2 }, 2)
    client.presence('room', 'bob', { cursor: 9 }, 1)
    client.presence('room', 'bob', null, 2)
    await waitFor(() => r.received.length === 1, 5000, 'presence call')
    expect(r.received[0]?.payload).toEqual({
      type: 'presence.changed',
      timestamp: expect.any(String),
      data: { documentId: 'room', clients: { alice: { cursor: 2 }, bob: null } },
    })
    await sleep(100)
    expect(quiet.received).toHaveLength(0)
  })

  it('stops sending to a receiver that answers 410 Gone', async () => {
    const r = await receiver()
    r.behaviour = () => 410
    const { logger, lines } = capture()
    const webhooks = createWebhookDispatcher({
      endpoints: [{ url: r.url, secret: TEST_SECRET }],
      coalesceMs: 1,
      logger,
    })
    cleanups.push(() => webhooks.close())
    webhooks.documentDeleted('a')
    await waitFor(() => webhooks.stats().endpoints[0]?.disabled === true, 5000, 'disabled')
    webhooks.documentDeleted('b')
    await sleep(50)
    expect(r.received).toHaveLength(1)
    // Both count as dropped: the one answered 410, and the one sent after.
    expect(webhooks.stats()).toMatchObject({ delivered: 0, dropped: 2 })
    expect(lines.some((l) => l.message.includes('410'))).toBe(true)
  })

  it('gives up on a message after maxAttempts and moves on to the next', async () => {
    const r = await receiver()
    r.behaviour = (i) => (i < 3 ? 503 : 200)
    const { logger, lines } = capture()
    const webhooks = createWebhookDispatcher({
      endpoints: [{ url: r.url, secret: TEST_SECRET }],
      maxAttempts: 3,
      retryBaseMs: 5,
      retryMaxMs: 10,
      logger,
    })
    cleanups.push(() => webhooks.close())
    webhooks.documentDeleted('first')
    webhooks.documentDeleted('second')
    await waitFor(() => webhooks.stats().delivered === 1, 5000, 'second delivered')
    expect(webhooks.stats()).toMatchObject({ failed: 1, delivered: 1, retries: 2 })
    expect(dataOf(r.delivered()[0])).toEqual({ documentId: 'second' })
    expect(lines.filter((l) => l.message.includes('giving up'))).toHaveLength(1)
  })

  it('close() flushes open windows before it stops', async () => {
    const r = await receiver()
    const webhooks = createWebhookDispatcher({
      endpoints: [{ url: r.url, secret: TEST_SECRET }],
      coalesceMs: 60_000,
    })
    webhooks.documentChanged({ documentId: 'late', fields: [{ field: 'x', value: 1, deleted: false }] })
    await webhooks.close()
    expect(r.delivered()).toHaveLength(1)
    expect(webhooks.stats()).toMatchObject({ delivered: 1, abandoned: 0, pendingDocuments: 0 })
  })
})

describe('shutdown', () => {
  const child = fileURLToPath(new URL('../helpers/webhook-exit-child.ts', import.meta.url))

  it.each([
    ['answers', 200 as const],
    ['never answers', 'hang' as const],
  ])(
    'close() leaves nothing running: the process exits by itself when the receiver %s',
    async (_, answer) => {
      const r = await receiver()
      r.behaviour = () => answer
      const proc = spawn(process.execPath, ['--import', 'tsx', child, r.url, TEST_SECRET], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stdout = ''
      let stderr = ''
      proc.stdout.on('data', (d: Buffer) => (stdout += d))
      proc.stderr.on('data', (d: Buffer) => (stderr += d))
      const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000)
      const [code, signal] = (await once(proc, 'exit')) as [number | null, string | null]
      clearTimeout(timer)
      expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' })
      const stats = JSON.parse(stdout.trim()) as { delivered: number; abandoned: number }
      expect(r.received).toHaveLength(1)
      expect(stats).toMatchObject(
        answer === 200 ? { delivered: 1, abandoned: 0 } : { delivered: 0, abandoned: 1 },
      )
    },
  )
})
