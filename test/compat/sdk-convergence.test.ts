/**
 * Real `@synckit-js/sdk@0.1.1` clients against a real synckit-engine server (ws adapter,
 * anonymous mode): convergence of several clients, late joiners, clients that leave.
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  converge,
  JSON_VALUES,
  partition,
  Scope,
  SdkPeer,
  type State,
  serverView,
  sleep,
  startServer,
  waitFor,
} from './harness.js'
import { freshClientScenario, historyClientScenario } from './scenarios.js'

const scope = new Scope()
afterEach(() => scope.close())

const DOC = 'compat-doc'

async function threeClients(url: string): Promise<SdkPeer[]> {
  return Promise.all([
    SdkPeer.open(scope, url, DOC, { name: 'sdk-a', clientId: 'client-a' }),
    SdkPeer.open(scope, url, DOC, { name: 'sdk-b', clientId: 'client-b' }),
    // Sorts after 'server': an echo only wins its local LWW by a strictly larger clock (D5, docs/protocol.md §6.4).
    SdkPeer.open(scope, url, DOC, { name: 'sdk-c', clientId: 'user-c' }),
  ])
}

/** Writes `fields` one after the other (each `set()` waits for its ack). */
async function writeAll(peer: SdkPeer, fields: State): Promise<void> {
  for (const [field, value] of Object.entries(fields)) await peer.set(field, value)
}

describe('SDK 0.1.1 clients converge on synckit-engine', () => {
  it('three clients: distinct fields of every JSON type and same-field conflicts converge to the server state', async () => {
    const { url } = await startServer(scope)
    const peers = await threeClients(url)
    const [a, b, c] = peers as [SdkPeer, SdkPeer, SdkPeer]
    const slices = partition(JSON_VALUES, 3)

    // Distinct fields from all three at once, while they also fight over the same fields.
    const rapid = (peer: SdkPeer, tag: string) => async () => {
      for (let i = 0; i < 10; i++) await peer.set('rapid', `${tag}${i}`)
    }
    await Promise.all([
      writeAll(a, slices[0] ?? {}),
      writeAll(b, slices[1] ?? {}),
      writeAll(c, slices[2] ?? {}),
      a.set('title', 'from a'),
      b.set('title', { from: 'b', tags: ['x', 'y'] }),
      c.set('title', ['from', 'c', null]),
      rapid(a, 'A')(),
      rapid(b, 'B')(),
      rapid(c, 'C')(),
    ])
    // A second conflict round on a field every client already holds.
    await Promise.all([a.set('title', 1), b.set('title', false), c.set('title', null)])
    // `update()` sends one `delta` per field; `syncDocument()` is a `sync_request` without an id.
    await b.doc.update({ updatedA: 'one', updatedB: ['two'] })
    await c.kit.syncDocument(DOC)

    const view = await converge(url, DOC, peers, {
      must: { ...JSON_VALUES, updatedA: 'one', updatedB: ['two'] },
      oneOf: { title: [1, false, null], rapid: ['A9', 'B9', 'C9'] },
    })
    expect(Object.keys(view.state).sort()).toEqual(
      [...Object.keys(JSON_VALUES), 'rapid', 'title', 'updatedA', 'updatedB'].sort(),
    )
    expect(Object.keys(view.clock).length).toBeGreaterThan(0)
    // The SDK pings every second here (default 30 s) and reconnects without a pong in time.
    await waitFor(() => peers.every((peer) => peer.pongs > 0), {
      timeoutMs: 3_000,
      describe: () =>
        `a pong for every client (pongs: ${peers.map((p) => `${p.name}=${p.pongs}`).join(', ')})`,
    })
    for (const peer of peers) expect(peer.connectionLog, `${peer.name} reconnected`).toEqual(['connected'])
  })

  it('a fresh client subscribing to an existing document ends up with every field', async () => {
    const { url } = await startServer(scope)
    await freshClientScenario(scope, url, DOC)
  })

  it('a client that joins while another writes continuously ends up with everything', async () => {
    const { url } = await startServer(scope)
    const writer = await SdkPeer.open(scope, url, DOC, { name: 'writer' })
    await Promise.all(Object.entries(JSON_VALUES).map(([field, value]) => writer.set(field, value)))
    let writing = true
    const storm = (async () => {
      for (let i = 0; writing && i < 200; i++) await writer.set(`storm${i % 5}`, i)
    })()
    await sleep(80)
    const late = await SdkPeer.open(scope, url, DOC, { name: 'late-joiner' })
    await sleep(150)
    writing = false
    await storm
    await converge(url, DOC, [writer, late], { must: { ...JSON_VALUES } })
  })

  it('a client that leaves right after another client’s write is acked makes nobody miss it', async () => {
    const { url } = await startServer(scope)
    const a = await SdkPeer.open(scope, url, DOC, { name: 'stays-a' })
    const b = await SdkPeer.open(scope, url, DOC, { name: 'stays-b' })
    const must: State = {}
    for (let round = 0; round < 4; round++) {
      // A bystander leaves (unsubscribe + close, as on unmount) right after the ack.
      const bystander = await SdkPeer.open(scope, url, DOC, { name: `bystander-${round}` })
      await a.set(`acked${round}`, round)
      bystander.close()
      // The writer itself leaves right after its ack.
      const writer = await SdkPeer.open(scope, url, DOC, { name: `writer-${round}` })
      await writer.set(`leaver${round}`, { round })
      writer.close()
      // A bystander drops its socket (no unsubscribe) in the same tick as a write is sent.
      const dropper = await SdkPeer.open(scope, url, DOC, { name: `dropper-${round}` })
      const racing = b.set(`raced${round}`, [round])
      dropper.offline()
      await racing
      Object.assign(must, {
        [`acked${round}`]: round,
        [`leaver${round}`]: { round },
        [`raced${round}`]: [round],
      })
      // Everyone still here has this round's writes (not only eventually: a bounded wait).
      await converge(url, DOC, [a, b], { must, timeoutMs: 4_000 })
    }
    const fresh = await SdkPeer.open(scope, url, DOC, { name: 'fresh' })
    await converge(url, DOC, [a, b, fresh], { must })
  })

  it('a client with local history (own counter 100, e.g. migrated from a SyncKit server) adopts later writes', async () => {
    const { url } = await startServer(scope)
    await historyClientScenario(scope, url, DOC)
  })

  it('the server answers subscribe with a non-empty clock whenever the state is non-empty', async () => {
    const { url } = await startServer(scope)
    const writer = await SdkPeer.open(scope, url, DOC, { name: 'writer' })
    await writer.set('x', 1)
    const view = await serverView(url, DOC)
    expect(view.state).toEqual({ x: 1 })
    expect(Math.max(...Object.values(view.clock))).toBeGreaterThan(0)
  })
})
