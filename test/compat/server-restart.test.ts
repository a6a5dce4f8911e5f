/**
 * Server restart with the embedded store (PGlite in a data directory): SDK 0.1.1 clients (and a
 * second-dialect client) reconnect on their own and converge, and no acked write is lost. Acked
 * means the SDK's `set()` resolved: with durable acks (the default) the store had committed it.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createPgliteStore } from '../../src/storage/pglite.js'
import {
  converge,
  JSON_VALUES,
  LegacyPeer,
  partition,
  peerProblems,
  Scope,
  SdkPeer,
  type State,
  serverView,
  show,
  startServer,
  waitFor,
} from './harness.js'

// Creating a PGlite database runs initdb in WebAssembly: seconds, tens on a loaded machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 })

const scope = new Scope()
afterEach(() => scope.close())

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'synckit-compat-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

const DOC = 'restart-doc'
/**
 * SDK 0.1.1 schedules two reconnect loops per failed attempt (from the failed connect and from
 * `onclose`), so an outage leaves several sockets per client; all come from 127.0.0.1 here. The
 * per-IP cap is not under test: keep it out of the way.
 */
const SERVER = { maxConnectionsPerIp: 1_000 }

describe('server restart with the embedded store (PGlite)', () => {
  it('SDK clients reconnect and converge without losing acked writes', async () => {
    const dataDir = join(dir, 'data')
    const first = await startServer(scope, { ...SERVER, store: await createPgliteStore({ dataDir }) })
    const { url, port } = first
    const sdk = await Promise.all([
      SdkPeer.open(scope, url, DOC, { name: 'sdk-a', clientId: 'client-a' }),
      SdkPeer.open(scope, url, DOC, { name: 'sdk-b', clientId: 'client-b' }),
      SdkPeer.open(scope, url, DOC, { name: 'sdk-c', clientId: 'user-c' }),
    ])
    const [a, b, c] = sdk as [SdkPeer, SdkPeer, SdkPeer]
    const legacy = await LegacyPeer.open(scope, url, DOC, 'legacy')

    // Every write below is acked before the restart: `set()` resolved.
    const slices = partition(JSON_VALUES, 3)
    const acked: State = { ...JSON_VALUES, contested: 'c wins last', fromLegacy: { ok: true } }
    await Promise.all(
      sdk.map(async (peer, i) => {
        for (const [field, value] of Object.entries(slices[i] ?? {})) await peer.set(field, value)
      }),
    )
    await a.set('contested', 'a first')
    await b.set('contested', 'b second')
    await c.set('contested', 'c wins last')
    await legacy.set('fromLegacy', { ok: true })
    await converge(url, DOC, [...sdk, legacy], { must: acked })
    // Acked, then the server stops at once: the ack came after the store committed it.
    await c.set('lastAcked', 'right before shutdown')
    acked.lastAcked = 'right before shutdown'

    await first.stop()
    await waitFor(() => sdk.every((peer) => peer.connectionState() !== 'connected'), {
      timeoutMs: 5_000,
      describe: () =>
        `every SDK client to notice the shutdown (${sdk.map((p) => `${p.name}: ${p.connectionState()}`).join(', ')})`,
    })
    // Written while the server is down: the SDK queues it and replays it after reconnecting.
    await a.set('whileDown', ['queued', 0, false])
    expect(a.queueSize()).toBe(1)

    const second = await startServer(scope, { ...SERVER, store: await createPgliteStore({ dataDir }) }, port)
    // Straight from the store: every acked write survived (the clients never resend acked ones).
    const restored = await serverView(url, DOC)
    const lost = peerProblems('restarted server', restored.state, acked).filter(
      (p) => !p.includes('that the server lacks'),
    )
    expect(lost, show(restored.state)).toEqual([])

    await waitFor(
      () => sdk.every((peer) => peer.connectionState() === 'connected' && peer.queueSize() === 0),
      {
        timeoutMs: 10_000,
        describe: () =>
          `every SDK client to reconnect and replay (${sdk.map((p) => `${p.name}: ${p.connectionState()}, queued ${p.queueSize()}`).join('; ')})`,
      },
    )
    const must = { ...acked, whileDown: ['queued', 0, false] }
    await converge(second.url, DOC, [...sdk, legacy], { must })

    // And the document keeps working after the restart, for old and new clients.
    await b.set('afterRestart', 'b')
    const fresh = await SdkPeer.open(scope, url, DOC, { name: 'fresh-after-restart' })
    await converge(url, DOC, [...sdk, legacy, fresh], { must: { ...must, afterRestart: 'b' } })
  })
})
