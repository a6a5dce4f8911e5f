import { describe, expect, it } from 'vitest'
import { ClusterBridge, type RemoteResolution } from '../../src/cluster/bridge.js'
import { MemoryBrokerHub } from '../../src/cluster/memory-broker.js'
import { encodeClusterMessage } from '../../src/cluster/messages.js'
import { CONTROL_TOPIC, documentTopic } from '../../src/cluster/topics.js'
import type { DocumentSnapshot, Register } from '../../src/crdt/types.js'
import type { RevokeTarget } from '../../src/engine/types.js'
import type { AwarenessEntry } from '../../src/protocol/types.js'
import { EngineHarness } from '../helpers/engine-harness.js'
import { waitFor, within } from '../helpers/wait-for.js'

function reg(field: string, value: string, ms: number, node: string): Register {
  return { field, value, deleted: false, stamp: { ms, counter: 0, node }, dot: { node, seq: ms } }
}

/** A node with a fake engine: records what the bridge resolves, answers from plain maps. */
class FakeNode {
  readonly resolved: RemoteResolution[] = []
  readonly revoked: RevokeTarget[] = []
  readonly errors: unknown[] = []
  readonly registers = new Map<string, Register[]>()
  readonly presence = new Map<string, AwarenessEntry[]>()
  readonly bridge: ClusterBridge

  constructor(
    readonly hub: MemoryBrokerHub,
    readonly id: string,
  ) {
    this.bridge = new ClusterBridge({
      broker: hub.createBroker(id),
      resolve: (r) => this.resolved.push(r),
      awarenessEntries: (d) => this.presence.get(d) ?? [],
      documentRegisters: (d) => this.registers.get(d),
      revoke: (t) => this.revoked.push(t),
      onError: (e) => this.errors.push(e),
    })
  }

  registersOf(documentId: string): string[] {
    return this.resolved
      .filter((r) => r.kind === 'remote-registers' && r.documentId === documentId)
      .flatMap((r) => (r.kind === 'remote-registers' ? r.registers.map((x) => `${x.field}=${x.value}`) : []))
  }

  awarenessOf(documentId: string): string[] {
    return this.resolved
      .filter((r) => r.kind === 'remote-awareness' && r.documentId === documentId)
      .map((r) => (r.kind === 'remote-awareness' ? `${r.entry.clientId}@${r.entry.clock}` : ''))
      .sort()
  }
}

async function cluster(ids: string[]): Promise<{ hub: MemoryBrokerHub; nodes: FakeNode[] }> {
  const hub = new MemoryBrokerHub()
  const nodes = ids.map((id) => new FakeNode(hub, id))
  await Promise.all(nodes.map((n) => n.bridge.start()))
  return { hub, nodes }
}

describe('ClusterBridge', () => {
  it('fans registers and awareness out to the holders of the document only', async () => {
    const { hub, nodes } = await cluster(['a', 'b', 'c'])
    const [a, b, c] = nodes as [FakeNode, FakeNode, FakeNode]
    await a.bridge.subscribeDocument('doc')
    await b.bridge.subscribeDocument('doc')
    expect(await a.bridge.publishRegisters('doc', [reg('title', 'x', 1, 'a')])).toBe(true)
    await a.bridge.publishAwareness('doc', { clientId: 'c1', state: { at: 1 }, clock: 1 })
    await hub.idle()
    expect(b.registersOf('doc')).toEqual(['title=x'])
    expect(b.awarenessOf('doc')).toEqual(['c1@1'])
    expect(a.resolved).toEqual([])
    expect(c.resolved).toEqual([])
  })

  it('gives a new holder the presence every other holder knows', async () => {
    const { hub, nodes } = await cluster(['a', 'b', 'c'])
    const [a, b, c] = nodes as [FakeNode, FakeNode, FakeNode]
    a.presence.set('doc', [{ clientId: 'ca', state: { n: 'A' }, clock: 3 }])
    c.presence.set('doc', [
      { clientId: 'cc', state: { n: 'C' }, clock: 1 },
      { clientId: 'cd', state: {}, clock: 9 },
    ])
    await a.bridge.subscribeDocument('doc')
    await c.bridge.subscribeDocument('doc')
    await b.bridge.subscribeDocument('doc')
    await b.bridge.requestAwareness('doc')
    await hub.idle()
    expect(b.awarenessOf('doc')).toEqual(['ca@3', 'cc@1', 'cd@9'])
    expect(a.awarenessOf('doc')).toEqual([])
  })

  it('propagates revocations to every node', async () => {
    const { hub, nodes } = await cluster(['a', 'b', 'c'])
    await nodes[0]?.bridge.publishRevoke({ userId: 'u1' })
    await nodes[0]?.bridge.publishRevoke({ documentId: 'doc' })
    await hub.idle()
    expect(nodes[1]?.revoked).toEqual([{ userId: 'u1' }, { documentId: 'doc' }])
    expect(nodes[2]?.revoked).toEqual([{ userId: 'u1' }, { documentId: 'doc' }])
    expect(nodes[0]?.revoked).toEqual([])
  })

  it('after an outage, pushes what it wrote meanwhile and pulls what it missed', async () => {
    const { hub, nodes } = await cluster(['a', 'b'])
    const [a, b] = nodes as [FakeNode, FakeNode]
    await a.bridge.subscribeDocument('doc')
    await b.bridge.subscribeDocument('doc')

    hub.disconnect('b')
    a.registers.set('doc', [reg('fromA', '1', 5, 'a')])
    b.registers.set('doc', [reg('fromB', '2', 6, 'b')])
    a.presence.set('doc', [{ clientId: 'ca', state: {}, clock: 2 }])
    await a.bridge.publishRegisters('doc', [reg('fromA', '1', 5, 'a')]) // b misses it
    expect(await b.bridge.publishRegisters('doc', [reg('fromB', '2', 6, 'b')])).toBe(false)
    expect(await b.bridge.publishRevoke({ userId: 'u9' })).toBe(false)
    await hub.idle()
    expect(a.registersOf('doc')).toEqual([])
    expect(b.registersOf('doc')).toEqual([])

    hub.reconnect('b')
    await waitFor(() => a.registersOf('doc').length > 0 && b.registersOf('doc').length > 0, {
      timeoutMs: 2000,
      message: 'resync',
    })
    await hub.idle()
    expect(a.registersOf('doc')).toEqual(['fromB=2'])
    expect(b.registersOf('doc')).toEqual(['fromA=1'])
    expect(b.awarenessOf('doc')).toEqual(['ca@2'])
    expect(a.revoked).toEqual([{ userId: 'u9' }])
  })

  it('never rejects while the broker is down, and subscribes once it is back', async () => {
    const { hub, nodes } = await cluster(['a', 'b'])
    const [a, b] = nodes as [FakeNode, FakeNode]
    hub.disconnect('b')
    await within(b.bridge.subscribeDocument('doc'), 1000, 'subscribeDocument while down')
    expect(b.errors.length).toBeGreaterThan(0)
    hub.reconnect('b')
    await hub.idle()
    await a.bridge.publishRegisters('doc', [reg('f', 'v', 1, 'a')])
    await hub.idle()
    expect(b.registersOf('doc')).toEqual(['f=v'])
  })

  it('drops undecodable messages and reports them', async () => {
    const { hub, nodes } = await cluster(['a', 'b'])
    const [a, b] = nodes as [FakeNode, FakeNode]
    await b.bridge.subscribeDocument('doc')
    const raw = hub.createBroker('raw')
    await raw.publish(documentTopic('doc'), 'garbage')
    await raw.publish(
      CONTROL_TOPIC,
      encodeClusterMessage({ type: 'revoke', userId: 'u' }).replace('"v":1', '"v":99'),
    )
    await hub.idle()
    expect(b.resolved).toEqual([])
    expect(b.revoked).toEqual([])
    expect(b.errors.length).toBe(2)
    expect(a.errors.length).toBe(1) // the control message
  })

  it('close stops delivery to the node', async () => {
    const { hub, nodes } = await cluster(['a', 'b'])
    const [a, b] = nodes as [FakeNode, FakeNode]
    await b.bridge.subscribeDocument('doc')
    await b.bridge.close()
    await a.bridge.publishRegisters('doc', [reg('f', 'v', 1, 'a')])
    await a.bridge.publishRevoke({ userId: 'u' })
    await hub.idle()
    expect(b.resolved).toEqual([])
    expect(b.revoked).toEqual([])
  })
})

/** Two real engines (through the test harness) joined by bridges over the memory hub. */
class EngineNode {
  readonly harness: EngineHarness
  readonly bridge: ClusterBridge
  #routed = 0

  constructor(hub: MemoryBrokerHub, id: string, store: Map<string, DocumentSnapshot>) {
    this.harness = new EngineHarness({ nodeId: id, store })
    this.bridge = new ClusterBridge({
      broker: hub.createBroker(id),
      resolve: (resolution) => {
        this.harness.resolve(resolution)
        this.pump()
      },
      documentRegisters: (documentId) => this.harness.engine.documentSnapshot(documentId)?.registers,
    })
  }

  /** Routes the cluster effects the engine produced since the last call to the bridge. */
  pump(): void {
    const effects = this.harness.effects.slice(this.#routed)
    this.#routed = this.harness.effects.length
    for (const effect of effects) {
      if (effect.kind === 'subscribe-topic') void this.bridge.subscribeDocument(effect.documentId)
      if (effect.kind === 'unsubscribe-topic') void this.bridge.unsubscribeDocument(effect.documentId)
      if (effect.kind === 'publish') void this.bridge.publishRegisters(effect.documentId, effect.registers)
      if (effect.kind === 'publish-awareness')
        void this.bridge.publishAwareness(effect.documentId, effect.entry)
    }
  }

  send(conn: string, type: string, fields: Record<string, unknown>): void {
    this.harness.send(conn, type, fields)
    this.pump()
  }
}

describe('ClusterBridge with real engines', () => {
  it('a write on one node reaches subscribers on another; both converge', async () => {
    const hub = new MemoryBrokerHub()
    const store = new Map<string, DocumentSnapshot>()
    const a = new EngineNode(hub, 'node-a', store)
    const b = new EngineNode(hub, 'node-b', store)
    await Promise.all([a.bridge.start(), b.bridge.start()])
    a.harness.open('ca')
    b.harness.open('cb')
    a.send('ca', 'subscribe', { documentId: 'doc' })
    b.send('cb', 'subscribe', { documentId: 'doc' })
    await hub.idle()
    b.harness.take('cb')

    a.send('ca', 'delta', { id: 'd1', documentId: 'doc', delta: { title: 'hello' }, vectorClock: {} })
    b.send('cb', 'delta', { id: 'd2', documentId: 'doc', delta: { done: true }, vectorClock: {} })
    await hub.idle()

    const deltas = b.harness.ofType('cb', 'delta')
    expect(deltas.some((d) => JSON.stringify(d).includes('hello'))).toBe(true)
    expect(a.harness.engine.documentState('doc')).toEqual({ title: 'hello', done: true })
    expect(b.harness.engine.documentState('doc')).toEqual(a.harness.engine.documentState('doc'))
  })
})
