import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../../adapters/postgres.js'
import { createRedisBroker, type RedisBroker } from '../../adapters/redis.js'
import { type AttachedWebSocketServer, attachWebSocketServer } from '../../adapters/ws.js'
import type { SyncClient } from '../../src/client/types.js'
import { SyncServerError } from '../../src/client/types.js'
import type { ErrorContext, SyncServer } from '../../src/server/index.js'
import { createSyncServer } from '../../src/server/index.js'
import { freePort, killAll, redisServerMissing, startRedisServer } from '../helpers/node-process.js'
import { dropSchema, postgresAvailable, testSchemaName } from '../helpers/services.js'
import { createTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js'
import { sleep, waitFor, within } from '../helpers/wait-for.js'
import {
  AckTracker,
  canonical,
  converged,
  type DocState,
  databaseState,
  makeClient,
  readThrough,
  testRedisPrefix,
} from './support.js'

/**
 * Dependency outages without disturbing the shared services: Postgres is cut through a TCP proxy
 * only this test's server uses; Redis is a throwaway redis-server the test kills and restarts.
 */
const pg = await postgresAvailable()
if ('skip' in pg) console.log(`[outage] skipped: ${pg.skip}`)
const pgUrl = 'url' in pg ? pg.url : ''
const redisMissing = redisServerMissing()
if (redisMissing) console.log(`[outage] Redis part skipped: ${redisMissing}`)

interface Running {
  server: SyncServer
  transport: AttachedWebSocketServer
  errors: Array<{ error: Error; context: ErrorContext }>
  url: string
  httpUrl: string
}

const servers: Running[] = []
const clients: SyncClient[] = []
const proxies: TcpProxy[] = []
const schemas: string[] = []
const brokers: RedisBroker[] = []

afterEach(async () => {
  for (const client of clients.splice(0)) client.close()
  for (const running of servers.splice(0)) {
    await within(running.transport.close(), 10_000, 'transport close').catch(() => {})
    await within(running.server.close(), 15_000, 'server close').catch(() => {})
  }
  for (const broker of brokers.splice(0)) await broker.close().catch(() => {})
  await Promise.all(proxies.splice(0).map((p) => p.close()))
  for (const schema of schemas.splice(0)) await dropSchema(pgUrl, schema)
})
afterAll(async () => {
  await killAll()
})

async function serve(server: SyncServer): Promise<Running> {
  const errors: Running['errors'] = []
  server.on('error', (error, context) => errors.push({ error, context }))
  const transport = await attachWebSocketServer(server, { port: 0, host: '127.0.0.1' })
  const running = {
    server,
    transport,
    errors,
    url: `ws://127.0.0.1:${transport.port}/ws`,
    httpUrl: `http://127.0.0.1:${transport.port}`,
  }
  servers.push(running)
  return running
}

async function readiness(
  running: Running,
): Promise<{ status: number; body: { status: string; checks: Record<string, string> } }> {
  const response = await fetch(`${running.httpUrl}/health/ready`, { signal: AbortSignal.timeout(5000) })
  return { status: response.status, body: (await response.json()) as never }
}

interface Load {
  /** Writes sent per phase label (field names carry the label). */
  sent: Map<string, number>
  /** Rejections of `set`, by error code. */
  rejected: Map<string, number>
  /** Sets the phase label of the next writes. */
  phase: string
  stop(): Promise<void>
}

/**
 * Each writer keeps writing distinct fields `<phase>-<writer>-<n>` (a few in flight) until
 * stopped; the document alternates over `documents`. Bounded: at most `maxOps` per writer.
 */
function startLoad(writers: SyncClient[], documents: readonly string[], maxOps = 400): Load {
  let stopped = false
  const load: Load = {
    sent: new Map(),
    rejected: new Map(),
    phase: 'a',
    async stop() {
      stopped = true
      await within(runs, 30_000, 'writers stop')
    },
  }
  const run = async (w: number): Promise<void> => {
    const writer = writers[w] as SyncClient
    const pending = new Set<Promise<void>>()
    for (let n = 0; !stopped && n < maxOps; n++) {
      const phase = load.phase
      load.sent.set(phase, (load.sent.get(phase) ?? 0) + 1)
      const documentId = documents[n % documents.length] as string
      const settled = writer.set(documentId, `${phase}-${w}-${n}`, n).then(
        () => {},
        (error: unknown) => {
          const code = error instanceof SyncServerError ? (error.code ?? 'none') : String(error)
          load.rejected.set(code, (load.rejected.get(code) ?? 0) + 1)
        },
      )
      pending.add(settled)
      void settled.finally(() => pending.delete(settled))
      if (pending.size >= 3) await Promise.race(pending)
      await sleep(15)
    }
    await Promise.all(pending)
  }
  const runs = Promise.all(writers.map((_, w) => run(w)))
  return load
}

/** Fields the load wrote, per document, as `{field: n}`. */
function expectedFields(state: Record<string, DocState>): number {
  let count = 0
  for (const fields of Object.values(state)) count += Object.keys(fields).length
  return count
}

describe.skipIf(!pgUrl)('Postgres outage (TCP proxy cut between one server and Postgres)', () => {
  it('writes are not acked while cut, readiness is 503, and everything lands after restore', async () => {
    const schema = testSchemaName()
    schemas.push(schema)
    const target = new URL(pgUrl)
    const proxy = await createTcpProxy({
      targetHost: target.hostname,
      targetPort: Number(target.port || 5432),
    })
    proxies.push(proxy)
    const proxied = new URL(pgUrl)
    proxied.hostname = '127.0.0.1'
    proxied.port = String(proxy.port)
    const store = await createPostgresStore({
      url: proxied.toString(),
      schema,
      max: 4,
      connectTimeoutSeconds: 2,
      queryTimeoutMs: 1500,
      healthTimeoutMs: 1000,
    })
    const running = await serve(
      createSyncServer({
        nodeId: 'outage-pg',
        store,
        auth: { required: false },
        persist: { attempts: 2, retryDelayMs: 50 },
        // The legacy writer acks every echo it receives: keep the rate limit out of the picture.
        maxMessagesPerMinute: 100_000,
      }),
    )
    const docs = ['pg-outage-a', 'pg-outage-b'] as const
    const tracker = new AckTracker()
    const writers = [
      makeClient({ url: running.url, dialect: 'sdk', tracker, clientId: 'pg-w0' }),
      makeClient({ url: running.url, dialect: 'legacy', tracker, clientId: 'pg-w1' }),
    ]
    const watcher = makeClient({ url: running.url, dialect: 'sdk', clientId: 'pg-watch' })
    clients.push(...writers, watcher)
    const legacyErrors: string[] = []
    writers[1]?.on('error', (error) => {
      if (error instanceof SyncServerError && error.code) legacyErrors.push(error.code)
    })
    await within(Promise.all([...writers, watcher].map((c) => c.connect())), 15_000, 'connect')
    for (const d of docs)
      await within(Promise.all([...writers, watcher].map((c) => c.subscribe(d))), 15_000, 'sub')
    expect((await readiness(running)).status).toBe(200)

    const load = startLoad(writers, docs)
    await waitFor(() => tracker.acked.length >= 20, { timeoutMs: 15_000, message: 'acks before the cut' })

    // Mid-load: Postgres vanishes for this server only.
    proxy.cut()
    load.phase = 'b'
    const ackedAtCut = tracker.acked.length
    const ready = await waitFor(
      async () => {
        const r = await readiness(running)
        return r.status === 503 ? r : undefined
      },
      { timeoutMs: 10_000, intervalMs: 100, message: 'readiness 503 while cut' },
    )
    expect(ready.body).toMatchObject({ status: 'unhealthy', checks: { store: 'failing', server: 'ok' } })
    await waitFor(() => (load.rejected.get('PERSIST_FAILED') ?? 0) >= 2, {
      timeoutMs: 15_000,
      message: 'writes rejected with PERSIST_FAILED',
    })
    await waitFor(() => legacyErrors.includes('PERSIST_FAILED'), {
      timeoutMs: 15_000,
      message: 'the legacy writer told PERSIST_FAILED',
    })
    await sleep(500)
    // Nothing written after the cut was acked while the database was unreachable.
    const ackedWhileCut = tracker.acked.slice(ackedAtCut).filter((w) => w.field.startsWith('b-'))
    expect(ackedWhileCut).toEqual([])
    const persistErrors = running.errors.filter((e) => e.context.operation === 'persist').length
    expect(persistErrors).toBeGreaterThan(0)

    proxy.restore()
    load.phase = 'c'
    await waitFor(async () => (await readiness(running)).status === 200, {
      timeoutMs: 15_000,
      intervalMs: 100,
      message: 'readiness 200 after restore',
    })
    const ackedAtRestore = tracker.acked.length
    await waitFor(() => tracker.acked.length >= ackedAtRestore + 20, {
      timeoutMs: 15_000,
      message: 'acks after restore',
    })
    await load.stop()
    const sentB = load.sent.get('b') ?? 0
    expect(sentB).toBeGreaterThan(0)
    // Writes were refused only with PERSIST_FAILED (none timed out unanswered).
    expect([...load.rejected.keys()]).toEqual(['PERSIST_FAILED'])

    // Every write reached the server (the connections stayed up), so after the retries land the
    // database holds all of them: the pending registers from the cut included.
    const total = [...load.sent.values()].reduce((a, b) => a + b, 0)
    const db = await waitFor(
      async () => {
        const state = await databaseState(pgUrl, schema, docs)
        return expectedFields(state) === total ? state : undefined
      },
      { timeoutMs: 15_000, intervalMs: 200, message: `all ${total} writes in the database` },
    )
    // Every acked write is there with its value.
    for (const w of tracker.acked)
      expect(db[w.documentId]?.[w.field], `${w.documentId}.${w.field}`).toBe(w.value)
    // The writers, the watcher and a fresh reader agree with the database.
    const state = await converged([...writers, watcher], docs, 15_000)
    expect(canonical(state)).toBe(canonical(db))
    expect(canonical(await readThrough(running.url, 'legacy', docs))).toBe(canonical(db))
    console.log(
      `[outage] postgres: ${total} writes (${sentB} while cut), ${tracker.acked.length} acked, ` +
        `rejected ${JSON.stringify(Object.fromEntries(load.rejected))}, ${persistErrors} persist errors while cut`,
    )
  }, 90_000)
})

describe.skipIf(!pgUrl || redisMissing !== undefined)(
  'Redis restarted mid-load (2 nodes, own redis-server)',
  () => {
    it('nodes serve locally while it is down (readiness degraded), then resynchronise and converge', async () => {
      const schema = testSchemaName()
      schemas.push(schema)
      const prefix = testRedisPrefix()
      const port = await freePort()
      let redis = await startRedisServer(port)
      const nodes: Running[] = []
      for (const nodeId of ['redis-out-1', 'redis-out-2']) {
        const broker = createRedisBroker({
          url: redis.url,
          nodeId,
          prefix,
          backoff: { initialMs: 20, maxMs: 200 },
          onError: () => {},
        })
        brokers.push(broker)
        const store = await createPostgresStore({ url: pgUrl, schema, max: 4 })
        nodes.push(
          await serve(
            createSyncServer({
              nodeId,
              store,
              broker,
              auth: { required: false },
              maxMessagesPerMinute: 100_000,
            }),
          ),
        )
      }
      const [n1, n2] = nodes as [Running, Running]
      for (const n of nodes) {
        await waitFor(async () => (await readiness(n)).body.status === 'healthy', {
          timeoutMs: 10_000,
          message: 'healthy',
        })
      }
      const docs = ['redis-outage-a', 'redis-outage-b'] as const
      const writers = [
        makeClient({ url: n1.url, dialect: 'sdk', clientId: 'r-w0' }),
        makeClient({ url: n1.url, dialect: 'legacy', clientId: 'r-w1' }),
        makeClient({ url: n2.url, dialect: 'sdk', clientId: 'r-w2' }),
        makeClient({ url: n2.url, dialect: 'legacy', clientId: 'r-w3' }),
      ]
      clients.push(...writers)
      await within(Promise.all(writers.map((c) => c.connect())), 15_000, 'connect')
      for (const d of docs) await within(Promise.all(writers.map((c) => c.subscribe(d))), 15_000, 'subscribe')

      const load = startLoad(writers, docs)
      await waitFor(() => (load.sent.get('a') ?? 0) >= 40, {
        timeoutMs: 15_000,
        message: 'load before the outage',
      })

      await redis.kill()
      load.phase = 'b'
      for (const n of nodes) {
        const r = await waitFor(
          async () => {
            const current = await readiness(n)
            return current.body.checks.broker === 'failing' ? current : undefined
          },
          { timeoutMs: 10_000, intervalMs: 100, message: 'readiness degraded' },
        )
        // Still ready (local clients are served), but degraded.
        expect(r.status).toBe(200)
        expect(r.body).toMatchObject({ status: 'degraded', checks: { store: 'ok', broker: 'failing' } })
      }
      // Writes keep being acked on both nodes during the outage.
      const sentAtKill = load.sent.get('b') ?? 0
      await waitFor(() => (load.sent.get('b') ?? 0) >= sentAtKill + 40, {
        timeoutMs: 15_000,
        message: 'writes during the outage',
      })
      // Partitioned: each node's clients see their own node's outage writes, not the other node's.
      const seen = (client: SyncClient | undefined, w: number) =>
        docs.some((d) => Object.keys(client?.get(d) ?? {}).some((f) => f.startsWith(`b-${w}-`)))
      expect(seen(writers[1], 0) && seen(writers[3], 2)).toBe(true)
      expect(seen(writers[2], 0) || seen(writers[0], 2)).toBe(false)

      redis = await startRedisServer(port)
      load.phase = 'c'
      for (const n of nodes) {
        await waitFor(async () => (await readiness(n)).body.status === 'healthy', {
          timeoutMs: 20_000,
          intervalMs: 100,
          message: 'healthy after Redis is back',
        })
      }
      await sleep(300)
      await load.stop()
      expect(load.rejected.size, JSON.stringify(Object.fromEntries(load.rejected))).toBe(0)
      const total = [...load.sent.values()].reduce((a, b) => a + b, 0)

      const state = await converged(writers, docs, 20_000)
      expect(expectedFields(state)).toBe(total)
      // Outage writes from both nodes reached every client.
      const fields = Object.values(state).flatMap((f) => Object.keys(f))
      for (const w of [0, 1, 2, 3])
        expect(
          fields.some((f) => f.startsWith(`b-${w}-`)),
          `b-${w}`,
        ).toBe(true)
      expect(canonical(await databaseState(pgUrl, schema, docs))).toBe(canonical(state))
      for (const n of nodes)
        expect(canonical(await readThrough(n.url, 'legacy', docs))).toBe(canonical(state))
      console.log(
        `[outage] redis: ${total} writes (${load.sent.get('b') ?? 0} during the outage) converged on 4 clients, 2 nodes, db`,
      )
      await redis.kill()
    }, 120_000)
  },
)
