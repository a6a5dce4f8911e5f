/**
 * Regressions found by the engine property tests (test/property/engine-*.test.ts). Each test is
 * the shrunk counterexample, written against the harness directly.
 */
import { describe, expect, it } from 'vitest'
import type { DocumentSnapshot, Register } from '../../src/crdt/types.js'
import type { VectorClock } from '../../src/protocol/types.js'
import { EngineHarness } from '../helpers/engine-harness.js'

const clockMax = (clock: VectorClock | undefined): number => Math.max(...Object.values(clock ?? {}))

/** A register an older node left in the store. */
const stored = (
  field: string,
  value: Register['value'],
  node: string,
  seq: number,
  ms = 1_000_000,
): Register => ({
  field,
  value,
  deleted: false,
  stamp: { ms, counter: 0, node },
  dot: { node, seq },
})

describe('engine regressions', () => {
  // engine-convergence: [legacy, legacy] client-2.set(title=0), client-2.disconnect()
  it('applies a write received while the document loads even if the writer disconnects before the load completes', () => {
    const h = new EngineHarness({ autoSettle: false })
    h.open('a')
    // First access to the document: the write is parked until the store answers the load.
    h.send('a', 'delta', { id: 'd1', documentId: 'doc', delta: { title: 0 }, vectorClock: {} })
    // The socket closes (after the frame was received) before the load resolves.
    h.close('a')
    h.settle()
    h.flush()
    h.open('b')
    h.send('b', 'sync_request', { id: 'r1', documentId: 'doc' })
    h.settle()
    expect(h.engine.documentState('doc')).toEqual({ title: 0 })
    expect(h.ofType('b', 'sync_response')[0]?.state).toEqual({ title: 0 })
  })

  // engine-convergence: [legacy, sdk], store {tags: null @ node-old:1}, client-2.set(tags=[])
  it('echoes a changed field with a clock whose max exceeds every clock sent before (D5, docs/protocol.md §6.4)', () => {
    const h = new EngineHarness()
    h.store.set('doc', {
      documentId: 'doc',
      registers: [stored('tags', null, 'node-old', 1)],
      clock: { 'node-old': 1 },
    })
    h.open('a')
    h.send('a', 'subscribe', { documentId: 'doc' })
    const response = h.ofType('a', 'sync_response')[0]
    expect(response?.state).toEqual({ tags: null })
    h.send('a', 'delta_batch', {
      documentId: 'doc',
      deltas: [
        {
          type: 'set',
          field: 'tags',
          value: [],
          clock: { 'client-2': 1 },
          clientId: 'client-2',
          timestamp: 0,
        },
      ],
      messageId: 'm1',
    })
    const echo = h.ofType('a', 'delta').at(-1)
    expect(echo).toMatchObject({ field: 'tags', value: [] })
    // The SDK applied `tags: null` at (max(clock) = 1, 'server'); an echo at (1, 'server') ties,
    // and the Rust core breaks the tie by JSON text ("[]" < "null"): the new value is rejected.
    expect(clockMax(echo?.clock)).toBeGreaterThan(clockMax(response?.clock))
  })

  // engine-convergence: [legacy, sdk01] the SDK client knew `title`, went offline, the legacy
  // client deleted it; on resubscribe nothing tells the SDK, which keeps the stale value forever.
  it('re-sends tombstones too after the sync_response to a subscribe (resendFieldsOnSubscribe)', () => {
    const h = new EngineHarness({ resendFieldsOnSubscribe: true })
    h.open('legacy')
    h.send('legacy', 'sync_request', { id: 'r1', documentId: 'doc' })
    h.send('legacy', 'delta', { id: 'd1', documentId: 'doc', delta: { title: 'x' }, vectorClock: {} })
    h.send('legacy', 'delta', {
      id: 'd2',
      documentId: 'doc',
      delta: { title: { __deleted: true } },
      vectorClock: {},
    })
    h.open('sdk')
    h.send('sdk', 'subscribe', { documentId: 'doc' })
    // SDK 0.1.1 ignores `sync_response.state` and applies `delta` frames only: the delete must be one.
    expect(h.ofType('sdk', 'delta')).toMatchObject([{ field: 'title', value: { __deleted: true } }])
  })

  // engine-convergence: [legacy, sdk] client-1.set(done=0), client-2.set(title={}),
  // client-2.holdBackNextFrame() (the write overtakes the subscribe), client-2.read(),
  // client-2.disconnect(), client-2.reconnect(sync_request)
  it('never lets a connection auto-subscribed by a write claim, through echo clocks, fields it never got', () => {
    const h = new EngineHarness()
    h.open('a')
    h.send('a', 'sync_request', { id: 'r1', documentId: 'doc' })
    h.send('a', 'delta', { id: 'd1', documentId: 'doc', delta: { done: 0 }, vectorClock: {} })
    h.open('b')
    // The SDK's write reaches the engine before its subscribe: auto-subscribed, never synced.
    h.send('b', 'delta_batch', {
      documentId: 'doc',
      deltas: [
        {
          type: 'set',
          field: 'title',
          value: {},
          clock: { 'client-2': 1 },
          clientId: 'client-2',
          timestamp: 0,
        },
      ],
      messageId: 'm1',
    })
    const received = [...h.take('b')]
    const echo = received.find((m) => m.type === 'delta')
    h.close('b')
    // Reconnect and resync from the clock merged from what it received (SDK: own counter + echoes).
    h.open('b2')
    h.send('b2', 'sync_request', {
      id: 'r2',
      documentId: 'doc',
      vectorClock: { ...echo?.clock, 'client-2': 1 },
    })
    received.push(...h.take('b2'))
    const fieldsSeen = new Set<string>()
    for (const m of received) {
      if (m.type === 'delta') fieldsSeen.add(m.field)
      if (m.type === 'sync_response') {
        // A client resyncing by vector clock applies `deltas`, not `state` (DESIGN: delta sync).
        if (m.requestId !== 'r2') for (const field of Object.keys(m.state)) fieldsSeen.add(field)
        for (const d of m.deltas) if (typeof d.field === 'string') fieldsSeen.add(d.field)
      }
    }
    expect([...fieldsSeen].sort()).toEqual(['done', 'title'])
  })

  // engine-cluster: [legacy@node-a, legacy@node-b, sdk@node-a] concurrent writes to one field;
  // the remote register wins on node-a but is echoed with the same max(clock) as before.
  it('echoes a field changed by a remote register with a clock max above every clock sent before (D5, docs/protocol.md §6.4)', () => {
    const h = new EngineHarness({ nodeId: 'node-a' })
    h.open('sdk')
    h.send('sdk', 'subscribe', { documentId: 'doc' })
    h.send('sdk', 'delta_batch', {
      documentId: 'doc',
      deltas: [
        {
          type: 'set',
          field: 'title',
          value: 'z',
          clock: { 'client-1': 5 },
          clientId: 'client-1',
          timestamp: 0,
        },
      ],
      messageId: 'm1',
    })
    const first = h.ofType('sdk', 'delta').at(-1)
    expect(first).toMatchObject({ field: 'title', value: 'z' })
    // node-b wrote the field concurrently, with a later stamp and a small dot.
    const remote: Register = {
      field: 'title',
      value: 'a',
      deleted: false,
      stamp: { ms: h.now + 1_000, counter: 0, node: 'node-b' },
      dot: { node: 'node-b', seq: 1 },
    }
    h.resolve({ kind: 'remote-registers', documentId: 'doc', registers: [remote] })
    const second = h.ofType('sdk', 'delta').at(-1)
    expect(second).toMatchObject({ field: 'title', value: 'a' })
    // The SDK holds ('z', max 5, 'server'); ('a', max 5, 'server') ties and "a" < "z": rejected.
    expect(clockMax(second?.clock)).toBeGreaterThan(clockMax(first?.clock))
  })

  // engine-cluster: [sdk@node-a, legacy@node-b] client-2.set(title=0), client-1.set(title=false,
  // title={}), clock@node-a(-1ms), client-1.disconnect(), client-1.reconnect@node-b()
  it('re-echoes a field when a losing remote register raises the clock above what clients were sent (D5, docs/protocol.md §6.4)', () => {
    // node-b: a legacy client wrote title=0 (dot node-b:1); the SDK client reconnected here.
    const h = new EngineHarness({ nodeId: 'node-b' })
    h.open('legacy')
    h.send('legacy', 'sync_request', { id: 'r1', documentId: 'doc' })
    h.send('legacy', 'delta', { id: 'd1', documentId: 'doc', delta: { title: 0 }, vectorClock: {} })
    h.open('sdk')
    h.send('sdk', 'subscribe', { documentId: 'doc' })
    // Its own writes (counter 1 and 2) were applied on node-a, whose wall clock was 1 ms behind:
    // they lose to title=0 here. The SDK holds title={} at (2, 'client-1').
    const fromNodeA = (value: Register['value'], counter: number, seq: number): Register => ({
      field: 'title',
      value,
      deleted: false,
      stamp: { ms: h.now - 1, counter, node: 'node-a' },
      dot: { node: 'node-a', seq },
    })
    h.take('sdk')
    h.resolve({
      kind: 'remote-registers',
      documentId: 'doc',
      registers: [fromNodeA(false, 0, 1), fromNodeA({}, 1, 2)],
    })
    expect(h.engine.documentState('doc')).toEqual({ title: 0 })
    // The SDK adopts title=0 only from a server value at max(clock) >= 2.
    const adoptable = h
      .ofType('sdk', 'delta')
      .filter((m) => m.field === 'title' && m.value === 0 && clockMax(m.clock) >= 2)
    expect(adoptable.length).toBeGreaterThan(0)
  })

  // engine-cluster: [legacy@node-a, legacy@node-b] client-1.deliver(2), client-1.set(title=0),
  // settle@node-a, client-1.deliver(1), flush@node-a, then client-2 reads the document on node-b.
  it('publishes a write only once it is committed, so a node loading meanwhile cannot miss it', () => {
    const store = new Map<string, DocumentSnapshot>()
    const options = { store, autoSettle: false, commitOnSettle: true }
    const a = new EngineHarness({ nodeId: 'node-a', ...options })
    const b = new EngineHarness({ nodeId: 'node-b', ...options })
    a.open('c1')
    a.send('c1', 'sync_request', { id: 'r1', documentId: 'doc' })
    a.settle()
    // Applied and flushed on node-a: persist (not committed yet) + publish, while node-b holds
    // nothing and is not subscribed to the document's topic.
    a.send('c1', 'delta', { id: 'd1', documentId: 'doc', delta: { title: 0 }, vectorClock: {} })
    const publishedBefore = a.published.length
    // node-b subscribes to the topic, then loads: the store does not have the write yet.
    b.open('c2')
    b.send('c2', 'sync_request', { id: 'r2', documentId: 'doc' })
    expect(b.topics.has('doc')).toBe(true)
    a.settle() // the commit
    b.settle()
    // Whatever node-a publishes from now on reaches node-b.
    for (const { documentId, registers } of a.published.slice(publishedBefore)) {
      b.resolve({ kind: 'remote-registers', documentId, registers })
    }
    expect(b.engine.documentState('doc')).toEqual({ title: 0 })
  })
})

describe('engine regressions (resync by vector clock)', () => {
  // engine-cluster (seed 1404190577): [sdk, legacy, legacy] on 2 nodes, client-1 writes title=""
  // on node-a (clock 1 ms ahead), reconnects to node-b and writes title={} there, node-b restarts,
  // client-1 resyncs on node-a by sync_request. "" wins by stamp, but its delta went out with the
  // register's own dot {node-a: 1}: the SDK compares max(clock) with its own counter (2) and
  // kept {} for good.
  it('sends missed registers with a clock an SDK client adopts over its own losing write (D5, docs/protocol.md §6.4)', () => {
    const h = new EngineHarness({ nodeId: 'node-a', durableAcks: false, now: 1_000_001 })
    h.open('c1')
    h.send('c1', 'subscribe', { documentId: 'doc' })
    h.send('c1', 'delta', { documentId: 'doc', field: 'title', value: '', clock: { 'client-1': 1 } })
    h.close('c1')
    // The client's second write, {} with its counter at 2, was applied on node-b with an older stamp.
    h.resolve({
      kind: 'remote-registers',
      documentId: 'doc',
      registers: [stored('title', {}, 'node-b', 2, 1_000_000)],
    })
    h.open('c2')
    h.send('c2', 'sync_request', { documentId: 'doc', vectorClock: { 'client-1': 2 } })
    const response = h.ofType('c2', 'sync_response')[0]
    expect(response?.state).toEqual({ title: '' })
    const delta = response?.deltas.find((d) => d.field === 'title')
    expect(delta?.value).toBe('')
    expect(clockMax(delta?.clock as VectorClock)).toBeGreaterThan(2)
  })
})

describe('engine regressions (clocks sent before an eviction)', () => {
  // engine-cluster (seed 1683750339, run 19186): a remote register lifted node-b's clock entry and
  // was echoed with it, but only registers were ever persisted. After an eviction the reload had a
  // lower clock, and its sync_response tied with the SDK client's value from an earlier echo: the
  // client kept its own write.
  it('persists a clock advanced without a local register, so a reload never goes below an echo', () => {
    const store = new Map<string, DocumentSnapshot>()
    const h = new EngineHarness({ nodeId: 'node-b', store })
    h.open('c')
    h.send('c', 'subscribe', { documentId: 'doc' })
    h.send('c', 'delta', {
      documentId: 'doc',
      field: 'done',
      value: 0,
      clock: { 'client-2': 2 },
      messageId: 'w1',
    })
    h.resolve({
      kind: 'remote-registers',
      documentId: 'doc',
      registers: [stored('done', '', 'node-a', 1, 2_000_000)],
    })
    const echo = h.ofType('c', 'delta').at(-1)
    expect(echo?.value).toBe('')
    // The document leaves memory; a fresh node loads what the store holds.
    const reloaded = new EngineHarness({ nodeId: 'node-b', store })
    reloaded.open('c2')
    reloaded.send('c2', 'subscribe', { documentId: 'doc' })
    const response = reloaded.ofType('c2', 'sync_response')[0]
    expect(clockMax(response?.clock)).toBeGreaterThanOrEqual(clockMax(echo?.clock))
  })
})

describe('engine regressions (open)', () => {
  // engine-cluster (seeds -341214295, -1607508278, runs ~20,000): node-a lifts its own clock entry
  // when it applies node-b's register and echoes that clock to its SDK client. The client then
  // reconnects to node-b, which never learns of the lift: node-b's echo of a newer write on the
  // field ties with what the client holds at (max(clock), 'server'), and the client keeps the old
  // value (D5, docs/protocol.md §6.7). The server cannot close this alone (an SDK `subscribe` carries no clock); see
  // docs/compatibility.md. The cluster property steers around it with `sdkAdoptsServerTies`.
  it.fails('an SDK client that moves to another node adopts that node’s newer echo (D5, docs/protocol.md §6.7)', () => {
    const store = new Map<string, DocumentSnapshot>()
    const a = new EngineHarness({ nodeId: 'node-a', store })
    const b = new EngineHarness({ nodeId: 'node-b', store })
    a.open('c1')
    a.send('c1', 'subscribe', { documentId: 'doc' })
    b.open('c2')
    b.send('c2', 'subscribe', { documentId: 'doc' })
    b.send('c2', 'delta', { documentId: 'doc', field: 'title', value: {}, clock: { c2: 1 } })
    // node-a applies node-b's register and echoes it to c1 with its own entry lifted.
    for (const { documentId, registers } of b.published.splice(0)) {
      a.resolve({ kind: 'remote-registers', documentId, registers })
    }
    const held = clockMax(a.ofType('c1', 'delta').at(-1)?.clock)
    // c1 moves to node-b; c2 writes a newer value there.
    b.open('c1b')
    b.send('c1b', 'subscribe', { documentId: 'doc' })
    b.send('c2', 'delta', { documentId: 'doc', field: 'title', value: 0, clock: { c2: 2, 'node-b': 1 } })
    const echoed = clockMax(b.ofType('c1b', 'delta').at(-1)?.clock)
    expect(echoed).toBeGreaterThan(held)
  })
})
