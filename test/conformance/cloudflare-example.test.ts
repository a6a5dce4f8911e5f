import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { parse } from 'smol-toml'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { signAccessToken } from '../../src/auth/tokens.js'
import { converge, JSON_VALUES, Scope, SdkPeer } from '../compat/harness.js'
import { freshClientScenario } from '../compat/scenarios.js'
import { bundleWorker, type RunningWorker, runWorker } from '../runtimes/workerd.js'
import { type ClientKind, ConformanceClient } from './client.js'
import { REPO_ROOT } from './spawn-runtime.js'
import { sleep, within } from './wait.js'

/**
 * examples/cloudflare, run in real workerd (miniflare) from its own wrangler.toml: the bindings,
 * the SQLite migration and the compatibility date come from that file, so the config a user
 * deploys with `wrangler deploy` is the one tested. Hibernation (a real eviction after workerd's
 * 10 s of inactivity), a restart of workerd on the same storage, two documents in two objects,
 * the upgrade check, and real SDK 0.1.1 clients.
 */

const EXAMPLE = 'examples/cloudflare'
const SECRET = 'test-secret-of-at-least-32-characters!!'
const SDK_BINARY: ClientKind = { dialect: 'sdk', encoding: 'binary' }
const SDK_JSON: ClientKind = { dialect: 'sdk', encoding: 'json' }

interface WranglerConfig {
  main: string
  compatibility_date: string
  compatibility_flags?: string[]
  vars?: Record<string, string>
  durable_objects: { bindings: { name: string; class_name: string }[] }
  migrations: { tag: string; new_sqlite_classes?: string[] }[]
}

async function wranglerConfig(): Promise<WranglerConfig> {
  const config = parse(await readFile(resolve(REPO_ROOT, EXAMPLE, 'wrangler.toml'), 'utf8'))
  return config as unknown as WranglerConfig
}

let bundle: Promise<string> | undefined

/** The example as `wrangler deploy` would run it: its entry, its bindings, `JWT_SECRET` as a secret. */
async function startExample(persist: string): Promise<RunningWorker> {
  const config = await wranglerConfig()
  const sqlite = new Set(config.migrations.flatMap((migration) => migration.new_sqlite_classes ?? []))
  const durableObjects = Object.fromEntries(
    config.durable_objects.bindings.map((binding) => [
      binding.name,
      { className: binding.class_name, useSQLite: sqlite.has(binding.class_name) },
    ]),
  )
  bundle ??= bundleWorker(join(EXAMPLE, config.main), {
    'synckit-engine/cloudflare': resolve(REPO_ROOT, 'adapters/cloudflare.ts'),
  })
  return runWorker(await bundle, {
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags ?? [],
    durableObjects,
    bindings: { ...config.vars, JWT_SECRET: SECRET },
    durableObjectsPersist: persist,
  })
}

function token(userId = 'alice'): Promise<string> {
  return signAccessToken(
    { userId, permissions: { canRead: ['*'], canWrite: ['*'], isAdmin: false } },
    { secret: SECRET },
  )
}

async function connect(worker: RunningWorker, documentId: string, name: string, kind: ClientKind) {
  const url = `${worker.wsOrigin}/ws?doc=${documentId}&token=${await token()}`
  return ConformanceClient.open(url, name, kind)
}

async function health(worker: RunningWorker, documentId: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${worker.httpUrl}/health?doc=${documentId}`)
  expect(response.status).toBe(200)
  return (await response.json()) as Record<string, unknown>
}

/** The HTTP status an upgrade is answered with (101 when it opens). */
function upgradeStatus(url: string): Promise<number> {
  return within(
    new Promise<number>((resolveStatus) => {
      const ws = new WebSocket(url)
      ws.once('open', () => {
        ws.terminate()
        resolveStatus(101)
      })
      ws.once('unexpected-response', (_request, response) => {
        resolveStatus(response.statusCode ?? 0)
        ws.terminate()
      })
      ws.once('error', () => {})
    }),
    10_000,
    `an answer to the upgrade on ${url}`,
  )
}

describe('examples/cloudflare in workerd', () => {
  const clients: ConformanceClient[] = []
  const dirs: string[] = []
  const workers: RunningWorker[] = []
  const persistDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'synckit-do-'))
    dirs.push(dir)
    return dir
  }
  const start = async (dir?: string): Promise<RunningWorker> => {
    const worker = await startExample(dir ?? (await persistDir()))
    workers.push(worker)
    return worker
  }
  const open = async (worker: RunningWorker, doc: string, name: string, kind: ClientKind) => {
    const client = await connect(worker, doc, name, kind)
    clients.push(client)
    return client
  }

  afterEach(() => {
    for (const client of clients.splice(0)) client.terminate()
  })
  afterAll(async () => {
    for (const worker of workers) await worker.dispose()
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  })

  it('wrangler.toml binds a SQLite-backed Durable Object class that the entry exports', async () => {
    const config = await wranglerConfig()
    expect(config.main).toBe('src/index.ts')
    expect(config.durable_objects.bindings).toEqual([{ name: 'SYNC', class_name: 'SyncObject' }])
    expect(config.migrations.flatMap((m) => m.new_sqlite_classes ?? [])).toContain('SyncObject')
    const source = await readFile(resolve(REPO_ROOT, EXAMPLE, dirname(config.main), 'index.ts'), 'utf8')
    expect(source).toContain("binding: 'SYNC'")
    expect(source).toMatch(/export class SyncObject extends SyncDurableObject/)
  })

  it('refuses upgrades without a valid token in the Worker (401); a valid one opens', async () => {
    const worker = await start()
    const base = `${worker.wsOrigin}/ws?doc=guarded`
    expect(await upgradeStatus(base)).toBe(401)
    expect(await upgradeStatus(`${base}&token=not.a.jwt`)).toBe(401)
    expect(await upgradeStatus(`${base}&token=${await token()}`)).toBe(101)
    expect(await upgradeStatus(`${worker.wsOrigin}/ws?token=${await token()}`)).toBe(400) // no ?doc=
    expect(await upgradeStatus(`${worker.wsOrigin}/elsewhere?doc=guarded`)).toBe(404)
  })

  it('routes two documents to two objects; a connection opens only its own document', async () => {
    const worker = await start()
    const a = await open(worker, 'doc-a', 'a', SDK_BINARY)
    const b = await open(worker, 'doc-b', 'b', SDK_BINARY)
    await a.join('doc-a')
    await b.join('doc-b')
    await a.writeAcked('doc-a', { x: 'a' })
    await b.writeAcked('doc-b', { x: 'b' })
    const clockA = Object.keys((await a.waitEcho('doc-a', 'x', 'a')).payload.clock as object)
    const clockB = Object.keys((await b.waitEcho('doc-b', 'x', 'b')).payload.clock as object)
    // Each object stamps with a node id of its own (`do-<object id>`).
    expect(clockA).toHaveLength(1)
    expect(clockB).toHaveLength(1)
    expect(clockA[0]).toMatch(/^do-[0-9a-f]{16}$/)
    expect(clockA).not.toEqual(clockB)
    expect((await health(worker, 'doc-a')).connections).toMatchObject({ totalConnections: 1 })
    const from = a.mark()
    a.send('subscribe', { documentId: 'doc-b' })
    await a.waitError('for a document of another object', 'Permission denied', { from })
    expect((await b.syncRequest('doc-b')).payload.state).toEqual({ x: 'b' })
  })

  it('hibernation: after an eviction the sockets stay open, subscribers get echoes, the state is intact', async () => {
    const worker = await start()
    const doc = 'hibernating'
    const binary = await open(worker, doc, 'binary', SDK_BINARY)
    const json = await open(worker, doc, 'json', SDK_JSON)
    await binary.join(doc)
    await json.join(doc)
    await binary.writeAcked(doc, { before: 1, title: 'old' })
    await json.waitEcho(doc, 'title', 'old')
    const quietSince = Date.now()
    // workerd evicts an object 10 s after its last event once nothing is scheduled: the server
    // ticks for two periods (2 s) after the last frame, then goes idle.
    await sleep(16_000)
    const woken = await health(worker, doc)
    const quietSeconds = (Date.now() - quietSince) / 1000
    expect(quietSeconds).toBeGreaterThan(15)
    // A new instance: its uptime started with this request, and it serves both sockets again.
    expect(woken.uptime).toBeLessThanOrEqual(2)
    expect(woken.connections).toMatchObject({ totalConnections: 2 })

    const binaryFrom = binary.mark()
    const jsonFrom = json.mark()
    await json.writeAcked(doc, { title: 'new', after: true })
    for (const client of [binary, json]) {
      const from = client === binary ? binaryFrom : jsonFrom
      await client.waitEcho(doc, 'title', 'new', { from })
      await client.waitEcho(doc, 'after', true, { from })
    }
    // Each socket still gets its own encoding, and none of them was re-sent a sync_response.
    expect(json.frames.slice(jsonFrom).every((frame) => !frame.binary)).toBe(true)
    expect(binary.frames.slice(binaryFrom).every((frame) => frame.binary)).toBe(true)
    expect(binary.framesOf('sync_response', binaryFrom)).toEqual([])
    expect([binary.closeEvent, json.closeEvent]).toEqual([undefined, undefined])
    const fresh = await open(worker, doc, 'fresh', SDK_JSON)
    expect((await fresh.syncRequest(doc)).payload.state).toEqual({ before: 1, title: 'new', after: true })
  }, 60_000)

  it('restart: acked writes survive a restart of workerd on the same storage', async () => {
    const dir = await persistDir()
    const first = await start(dir)
    const writer = await open(first, 'durable', 'writer', SDK_BINARY)
    await writer.join('durable')
    for (let i = 0; i < 5; i++) await writer.writeAcked('durable', { [`f${i}`]: i, last: i })
    await first.dispose()
    expect((await writer.closed()).code).not.toBe(1000)

    const second = await start(dir)
    const reader = await open(second, 'durable', 'reader', SDK_JSON)
    expect((await reader.syncRequest('durable')).payload.state).toEqual({
      f0: 0,
      f1: 1,
      f2: 2,
      f3: 3,
      f4: 4,
      last: 4,
    })
  }, 60_000)
})

describe('SDK 0.1.1 clients on the Cloudflare example', () => {
  const scope = new Scope()
  let worker: RunningWorker | undefined
  let dir: string | undefined
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'synckit-do-sdk-'))
    worker = await startExample(dir)
  }, 60_000)
  afterEach(() => scope.close())
  afterAll(async () => {
    await worker?.dispose()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  const urlFor = async (documentId: string): Promise<string> => {
    if (!worker) throw new Error('workerd did not start')
    return `${worker.wsOrigin}/ws?doc=${documentId}&token=${await token()}`
  }

  it('three clients writing at once converge to the server state', async () => {
    const doc = 'sdk-converge'
    const url = await urlFor(doc)
    const peers = await Promise.all(
      ['client-a', 'client-b', 'user-c'].map((clientId) =>
        SdkPeer.open(scope, url, doc, { name: clientId, clientId }),
      ),
    )
    const [a, b, c] = peers as [SdkPeer, SdkPeer, SdkPeer]
    const entries = Object.entries(JSON_VALUES)
    await Promise.all([
      ...entries.map(([field, value], i) => [a, b, c][i % 3]?.set(field, value)),
      a.set('title', 'from a'),
      b.set('title', 'from b'),
      c.set('title', 'from c'),
    ])
    await converge(url, doc, peers, {
      must: { ...JSON_VALUES },
      oneOf: { title: ['from a', 'from b', 'from c'] },
    })
  }, 60_000)

  it('a fresh client subscribing to an existing document ends up with every field', async () => {
    const doc = 'sdk-fresh'
    await freshClientScenario(scope, await urlFor(doc), doc)
  }, 60_000)
})
