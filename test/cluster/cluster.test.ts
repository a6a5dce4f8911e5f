import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { SyncClient } from '../../src/client/types.js'
import type { JsonValue } from '../../src/protocol/types.js'
import { killAll, type NodeProcess, startNode } from '../helpers/node-process.js'
import { dropSchema, postgresAvailable, redisAvailable, testSchemaName } from '../helpers/services.js'
import { createTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js'
import { sleep, waitFor, within } from '../helpers/wait-for.js'
import {
  canonical,
  cleanRedisPrefix,
  converged,
  databaseState,
  explainedBy,
  makeClient,
  newOpLog,
  prng,
  readThrough,
  testRedisPrefix,
} from './support.js'

/**
 * Three synckit-engine PROCESSES (the CLI) sharing one Postgres schema and one Redis prefix, with
 * clients of both dialects spread over them behind per-client TCP proxies (a load balancer with
 * no stickiness: some clients are moved to another node mid-run and reconnect there). After
 * random concurrent writes and deletes, every client, every node and the database agree.
 */
const pg = await postgresAvailable()
const redis = await redisAvailable()
const skip = 'skip' in pg ? pg.skip : 'skip' in redis ? redis.skip : undefined
if (skip) console.log(`[cluster] skipped: ${skip}`)
const suite = skip ? describe.skip : describe
const pgUrl = 'url' in pg ? pg.url : ''
const redisUrl = 'url' in redis ? redis.url : ''

const SEED = Number(process.env.SYNCKIT_CLUSTER_SEED ?? 20_240_611)
const CLIENTS = 6
const OPS = 40
const FIELDS = 8
const WINDOW = 4
const DOCS = ['cluster-doc-a', 'cluster-doc-b'] as const

const schema = testSchemaName()
const prefix = testRedisPrefix()
let nodes: NodeProcess[] = []
const proxies: TcpProxy[] = []
const clients: SyncClient[] = []

suite('cluster of 3 node processes on Postgres + Redis', () => {
  beforeAll(async () => {
    const env = { SYNCKIT_PG_SCHEMA: schema, REDIS_URL: redisUrl, REDIS_CHANNEL_PREFIX: prefix }
    // Started together: the migrations must be safe when several nodes start at once.
    nodes = await Promise.all(
      ['node-a', 'node-b', 'node-c'].map((nodeId) =>
        startNode({ nodeId, storage: pgUrl, env, startupTimeoutMs: 60_000 }),
      ),
    )
    for (const node of nodes) {
      await waitFor(
        async () => {
          const response = await fetch(`${node.httpUrl}/health/ready`, { signal: AbortSignal.timeout(3000) })
          const body = (await response.json()) as { status?: string }
          return response.status === 200 && body.status === 'healthy'
        },
        { timeoutMs: 20_000, intervalMs: 100, message: `${node.nodeId} ready and healthy` },
      )
    }
  }, 90_000)

  afterAll(async () => {
    for (const client of clients.splice(0)) client.close()
    await Promise.all(proxies.splice(0).map((p) => p.close()))
    // Graceful stop first (exercises shutdown with a broker); SIGKILL whatever does not exit.
    await Promise.all(nodes.map((n) => n.kill('SIGTERM').catch(() => n.kill('SIGKILL'))))
    await killAll()
    if (pgUrl) await dropSchema(pgUrl, schema)
    if (redisUrl) await cleanRedisPrefix(redisUrl, prefix)
  }, 60_000)

  it('random concurrent writes and deletes from both dialects converge on every client, node and in the database', async () => {
    const node = (i: number): NodeProcess => nodes[i % nodes.length] as NodeProcess
    for (let i = 0; i < CLIENTS; i++) {
      const proxy = await createTcpProxy({ targetPort: node(i).port })
      proxies.push(proxy)
      clients.push(
        makeClient({
          url: `ws://127.0.0.1:${proxy.port}/ws`,
          dialect: i % 2 === 0 ? 'sdk' : 'legacy',
          clientId: `cluster-client-${i}`,
        }),
      )
    }
    await within(Promise.all(clients.map((c) => c.connect())), 20_000, 'connect')
    for (const documentId of DOCS) {
      await within(Promise.all(clients.map((c) => c.subscribe(documentId))), 20_000, 'subscribe')
    }

    const log = newOpLog()
    const moved: string[] = []
    const run = async (i: number): Promise<void> => {
      const client = clients[i] as SyncClient
      const proxy = proxies[i] as TcpProxy
      // One stream per client: the same seed gives every client the same operations every run.
      const rng = prng(SEED * 31 + i)
      const inflight: Array<Promise<void>> = []
      for (let op = 0; op < OPS; op++) {
        const documentId = DOCS[Math.floor(rng() * DOCS.length)] as string
        const field = `f${Math.floor(rng() * FIELDS)}`
        const roll = rng()
        const value: JsonValue | undefined =
          roll < 0.2 ? undefined : roll < 0.25 ? null : roll < 0.5 ? i * 1000 + op : `c${i}-${op}`
        const key = `${documentId}\u0000${field}`
        const written = log.written.get(key) ?? []
        written.push(value)
        log.written.set(key, written)
        const label = `client ${i} op ${op} ${value === undefined ? 'delete' : 'set'} ${documentId}.${field}`
        const write =
          value === undefined ? client.delete(documentId, field) : client.set(documentId, field, value)
        inflight.push(
          write.then(
            () => {
              log.acked++
            },
            (error: unknown) => {
              log.failed.push({ op: label, error: String(error) })
            },
          ),
        )
        if (inflight.length >= WINDOW) await inflight.shift()
        if (rng() < 0.3) await sleep(Math.floor(rng() * 20))
        // No stickiness: a third of the clients are moved to another node mid-run, with writes
        // in flight; they reconnect there and resend whatever was not acked.
        if (op === OPS / 2 && i % 3 === 1) {
          const target = node(i + 1 + Math.floor(i / 3))
          proxy.retarget(target.port)
          proxy.dropAll()
          moved.push(`client ${i} -> ${target.nodeId}`)
        }
      }
      await Promise.all(inflight)
    }
    const started = performance.now()
    await within(Promise.all(Array.from({ length: CLIENTS }, (_, i) => run(i))), 60_000, 'all writes settled')
    const writeMs = performance.now() - started
    expect(log.failed).toEqual([])
    expect(log.acked).toBe(CLIENTS * OPS)
    expect(moved).toHaveLength(2)
    // The moved clients really reconnected (through their proxy, to the new node).
    for (const i of [1, 4]) expect(proxies[i]?.accepted).toBeGreaterThanOrEqual(2)

    const state = await converged(clients, DOCS, 20_000)
    expect(explainedBy(state, log)).toEqual([])
    expect(
      Object.keys(state['cluster-doc-a'] ?? {}).length + Object.keys(state['cluster-doc-b'] ?? {}).length,
    ).toBeGreaterThan(0)

    // Every node, read by a fresh client (legacy: sync_request; sdk: subscribe), has the same state.
    for (const n of nodes) {
      expect(canonical(await readThrough(n.url, 'legacy', DOCS)), `${n.nodeId} via sync_request`).toBe(
        canonical(state),
      )
      expect(canonical(await readThrough(n.url, 'sdk', DOCS)), `${n.nodeId} via subscribe`).toBe(
        canonical(state),
      )
    }
    // And the database holds it (the store was written by three nodes, in any order).
    expect(canonical(await databaseState(pgUrl, schema, DOCS))).toBe(canonical(state))
    // No node reported a store, broker or engine error along the way.
    for (const n of nodes) expect(n.stderr(), `${n.nodeId} stderr`).toBe('')
    console.log(
      `[cluster] seed ${SEED}: ${CLIENTS * OPS} ops acked in ${Math.round(writeMs)} ms; moved ${moved.join(', ')}; ` +
        `final fields ${Object.keys(state['cluster-doc-a'] ?? {}).length}+${Object.keys(state['cluster-doc-b'] ?? {}).length}`,
    )
  }, 120_000)

  it('presence crosses nodes: updates reach other nodes, a new watcher gets the full state, leaves reach all', async () => {
    const [a, b, c] = nodes as [NodeProcess, NodeProcess, NodeProcess]
    const doc = 'cluster-presence'
    const alice = makeClient({ url: a.url, dialect: 'sdk', clientId: 'alice', reconnect: false })
    const carol = makeClient({ url: c.url, dialect: 'sdk', clientId: 'carol', reconnect: false })
    clients.push(alice, carol)
    await within(Promise.all([alice.connect(), carol.connect()]), 15_000, 'connect')
    const carolView = carol.awareness(doc)
    carolView.set({ name: 'carol' })
    const aliceView = alice.awareness(doc)
    // Carol's watcher on node C is in place before Alice speaks on node A.
    await waitFor(() => aliceView.states().get('carol')?.state.name === 'carol', {
      timeoutMs: 10_000,
      message: 'alice (node A) sees carol (node C)',
    })
    aliceView.set({ name: 'alice', cursor: 3 })
    await waitFor(() => carolView.states().get('alice')?.state.cursor === 3, {
      timeoutMs: 10_000,
      message: 'carol (node C) sees alice (node A)',
    })

    // A new watcher on node B receives everybody present on the other nodes.
    const bob = makeClient({ url: b.url, dialect: 'sdk', clientId: 'bob', reconnect: false })
    clients.push(bob)
    await within(bob.connect(), 15_000, 'bob connect')
    const bobView = bob.awareness(doc)
    await waitFor(
      () => bobView.states().get('alice')?.state.cursor === 3 && bobView.states().get('carol') !== undefined,
      { timeoutMs: 10_000, message: 'bob (node B) gets the full awareness state' },
    )

    // Alice's socket closes (no explicit leave): everybody on every node sees her go.
    alice.close()
    await waitFor(() => !bobView.states().has('alice') && !carolView.states().has('alice'), {
      timeoutMs: 10_000,
      message: 'the leave reaches nodes B and C',
    })
    expect(bobView.states().has('carol')).toBe(true)
    expect(carolView.states().has('alice')).toBe(false)
  }, 60_000)
})
