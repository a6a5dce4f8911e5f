import { randomUUID } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { DocumentSnapshot } from '../../src/crdt/types.js'
import type { DocumentStore, ListDocumentsOptions } from '../../src/server/options.js'
import { defineDocumentStoreConformance } from '../../src/testing/index.js'
import { bundleWorker, NODE_ONLY_PACKAGES, type RunningWorker, runWorker } from '../runtimes/workerd.js'
import { ConformanceClient } from './client.js'
import { type ConformanceTarget, defineConformanceSuite } from './suite.js'
import { sleep } from './wait.js'

/**
 * `synckit-engine/cloudflare` in real workerd (miniflare): the transport conformance suite through
 * the Worker and a Durable Object (test/runtimes/cloudflare-worker.ts), and the DocumentStore
 * conformance suite on `DurableObjectSqlStore` over the object's own SQLite.
 */

const FIXTURE = 'test/runtimes/cloudflare-worker.ts'
const DURABLE_OBJECTS = {
  SYNC: { className: 'ConformanceObject', useSQLite: true },
  STORE: { className: 'StoreProbe', useSQLite: true },
}

let bundle: Promise<string> | undefined
function fixture(): Promise<RunningWorker> {
  bundle ??= bundleWorker(FIXTURE)
  return bundle.then((code) => runWorker(code, { durableObjects: DURABLE_OBJECTS }))
}

async function startWorkerd(): Promise<ConformanceTarget> {
  const worker = await fixture()
  return {
    url: `${worker.wsOrigin}/ws`,
    httpUrl: worker.httpUrl,
    async stop() {
      try {
        const response = await fetch(`${worker.httpUrl}/__shutdown`, { method: 'POST' })
        if (response.status !== 204) throw new Error(`shutdown answered ${response.status}`)
      } finally {
        await worker.dispose()
      }
    },
  }
}

defineConformanceSuite('workerd (Durable Object, hibernatable WebSockets)', startWorkerd, {
  sendBuffer: false,
})

/** A DocumentStore whose every call runs on a `DurableObjectSqlStore` inside workerd. */
class WorkerdStore implements DocumentStore {
  constructor(
    private readonly httpUrl: string,
    private readonly object: string,
  ) {}

  load(documentId: string): Promise<DocumentSnapshot | undefined> {
    return this.#call<DocumentSnapshot | null>('load', documentId).then((result) => result ?? undefined)
  }

  save(documents: readonly DocumentSnapshot[]): Promise<void> {
    return this.#call('save', documents).then(() => undefined)
  }

  list(options?: ListDocumentsOptions): Promise<string[]> {
    return this.#call('list', options ?? {})
  }

  delete(documentId: string): Promise<boolean> {
    return this.#call('delete', documentId)
  }

  async #call<T>(op: string, ...args: unknown[]): Promise<T> {
    const response = await fetch(`${this.httpUrl}/__store/${this.object}`, {
      method: 'POST',
      body: JSON.stringify({ op, args }),
    })
    const body = (await response.json()) as { result?: T; error?: string }
    if (!response.ok) throw new Error(`${op} failed in workerd: ${body.error ?? response.status}`)
    return body.result as T
  }
}

describe('DurableObjectSqlStore in workerd', () => {
  let worker: RunningWorker | undefined
  beforeAll(async () => {
    worker = await fixture()
  }, 60_000)
  afterAll(() => worker?.dispose())

  // Each case gets an object of its own: a fresh, empty SQLite database.
  defineDocumentStoreConformance({ describe, it, expect }, 'Durable Object SQLite', async () => {
    if (!worker) throw new Error('workerd did not start')
    return { store: new WorkerdStore(worker.httpUrl, randomUUID()), cleanup: async () => {} }
  })

  it('refuses an invalid register with a QUERY_ERROR and keeps what it had', async () => {
    if (!worker) throw new Error('workerd did not start')
    const store = new WorkerdStore(worker.httpUrl, randomUUID())
    const register = {
      field: 'f',
      value: 1,
      deleted: false,
      stamp: { ms: 1, counter: 0, node: 'n' },
      dot: { node: 'n', seq: 1 },
    }
    await store.save([{ documentId: 'd', registers: [register], clock: { n: 1 } }])
    const bad = { ...register, value: 2, stamp: { ms: 2, counter: 0, node: 'not a node id' } }
    await expect(store.save([{ documentId: 'd', registers: [bad], clock: {} }])).rejects.toThrow(
      /invalid stamp node id/,
    )
    expect((await store.load('d'))?.registers).toEqual([register])
  })
})

describe('synckit-engine/cloudflare bundles for workerd without Node', () => {
  it('has no import of a Node built-in or a Node-only package', async () => {
    const code = await bundleWorker('adapters/cloudflare.ts')
    expect(code).toMatch(/SyncDurableObject = class/)
    for (const name of ['node:', ...NODE_ONLY_PACKAGES]) expect(code).not.toContain(`from "${name}`)
  })

  it('the check refuses a Node import (negative control: the ws adapter)', async () => {
    await expect(bundleWorker('adapters/ws.ts')).rejects.toThrow(/Node-only import "node:http"/)
  })
})

describe('hibernation with a connection state larger than a socket attachment', () => {
  let worker: RunningWorker | undefined
  const clients: ConformanceClient[] = []
  afterEach(() => {
    for (const client of clients.splice(0)) client.terminate()
  })
  afterAll(() => worker?.dispose())

  it('keeps the state in SQLite and resumes the connection with all its documents', async () => {
    worker = await fixture()
    const url = `${worker.wsOrigin}/ws`
    const many = await ConformanceClient.open(url, 'many', { dialect: 'sdk', encoding: 'json' })
    const writer = await ConformanceClient.open(url, 'writer', { dialect: 'sdk', encoding: 'binary' })
    clients.push(many, writer)
    // 100 ids of 200 characters: about 20 KiB of state, above the 16 KiB an attachment holds.
    const documents = Array.from(
      { length: 100 },
      (_, i) => `big-${String(i).padStart(3, '0')}-${'x'.repeat(192)}`,
    )
    for (const documentId of documents) await many.join(documentId)
    const last = documents[documents.length - 1] ?? ''
    await writer.join(last)
    await writer.writeAcked(last, { before: 1 })
    await many.waitEcho(last, 'before', 1)
    // The fixture ticks every 200 ms: idle 0.4 s after the last frame, evicted 10 s later.
    await sleep(13_000)
    const health = (await (await fetch(`${worker.httpUrl}/health`)).json()) as Record<string, unknown>
    expect(health.uptime).toBeLessThanOrEqual(2)
    expect(health.connections).toMatchObject({ totalConnections: 2 })

    const from = many.mark()
    await writer.writeAcked(last, { after: 2 })
    await many.waitEcho(last, 'after', 2, { from })
    await many.writeAcked(documents[0] ?? '', { first: true })
    expect(many.closeEvent).toBeUndefined()
  }, 60_000)
})

describe('what a socket keeps for hibernation', () => {
  let worker: RunningWorker | undefined
  afterAll(() => worker?.dispose())

  it('its principal, format, documents and scope, and not the token of its URL', async () => {
    worker = await fixture()
    const url = `${worker.wsOrigin}/ws?token=secret-in-the-url&room=x`
    const client = await ConformanceClient.open(url, 'kept', { dialect: 'sdk', encoding: 'json' })
    try {
      await client.join('kept-1')
      await client.join('kept-2')
      const from = client.mark()
      client.send('unsubscribe', { documentId: 'kept-1' })
      client.send('ping', {})
      await client.waitFrame('pong', (frame) => frame.type === 'pong', { from })
      const attachments = (await (await fetch(`${worker.httpUrl}/__attachments`)).json()) as unknown[]
      expect(attachments).toEqual([
        {
          v: 1,
          scope: JSON.stringify({ all: true }),
          url: '/ws?room=x',
          ip: '127.0.0.1', // CF-Connecting-IP
          principal: expect.objectContaining({ userId: 'anonymous', via: 'anonymous' }),
          format: 'json',
          documents: ['kept-2'],
        },
      ])
      expect(JSON.stringify(attachments)).not.toContain('secret-in-the-url')
    } finally {
      client.terminate()
    }
  })
})

describe('one object per room (routeByRoom)', () => {
  let worker: RunningWorker | undefined
  const clients: ConformanceClient[] = []
  afterAll(async () => {
    for (const client of clients) client.terminate()
    await worker?.dispose()
  })

  it("serves the room's documents over one connection, and only those", async () => {
    worker = await fixture()
    const open = async (room: string) => {
      const client = await ConformanceClient.open(`${worker?.wsOrigin}/rooms?room=${room}`, room, {
        dialect: 'sdk',
        encoding: 'binary',
      })
      clients.push(client)
      return client
    }
    const team1 = await open('team-1')
    const team2 = await open('team-2')
    for (const documentId of ['team-1:todo', 'team-1:notes']) {
      await team1.join(documentId)
      await team1.writeAcked(documentId, { in: documentId })
    }
    const from = team1.mark()
    team1.send('subscribe', { documentId: 'team-2:todo' })
    await team1.waitError('for a document of another room', 'Permission denied', { from })
    await team2.join('team-2:todo')
    await team2.writeAcked('team-2:todo', { in: 'team-2' })
    const clockOf = async (client: ConformanceClient, documentId: string) =>
      Object.keys((await client.syncRequest(documentId)).payload.clock as object)
    // Both documents of team-1 are stamped by one object, team-2's by another.
    expect(await clockOf(team1, 'team-1:todo')).toEqual(await clockOf(team1, 'team-1:notes'))
    expect(await clockOf(team1, 'team-1:todo')).not.toEqual(await clockOf(team2, 'team-2:todo'))
    expect((await team1.syncRequest('team-1:notes')).payload.state).toEqual({ in: 'team-1:notes' })
  })
})
