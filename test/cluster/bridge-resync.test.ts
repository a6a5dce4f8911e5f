import { describe, expect, it } from 'vitest'
import { ClusterBridge, type RemoteResolution } from '../../src/cluster/bridge.js'
import {
  type Broker,
  type BrokerHandler,
  BrokerUnavailableError,
  messageText,
} from '../../src/cluster/broker.js'
import type { Register } from '../../src/crdt/types.js'
import { sleep } from '../helpers/wait-for.js'

/**
 * Regression (found by the Redis-restart outage test): after Redis came back, one node could stay
 * without the other's writes from around the outage. Redis restores each node separately, and a
 * node's publisher works before its subscriptions are back:
 *
 * 1. both nodes' publishers reconnect; a local write on node A publishes fine, so A republishes
 *    what it could not publish during the outage (and forgets it), but B is not subscribed yet;
 * 2. B restores its subscriptions and asks for a resync, but A is not subscribed yet;
 * 3. A restores and asks B for a resync: A gets B's writes, B never gets A's.
 *
 * The fix: a node that restores its subscriptions also pushes the registers of the documents it
 * holds. Of any two nodes, the one restoring later then both pushes and pulls while the other is
 * already listening.
 *
 * The broker below models that Redis behaviour: publishing and receiving come back separately.
 */
class SplitHub {
  readonly brokers: SplitBroker[] = []
  deliver(from: SplitBroker, topic: string, message: string): void {
    for (const broker of this.brokers) {
      const handler = broker.handlers.get(topic)
      if (broker === from || !broker.receiving || !handler) continue
      setTimeout(() => {
        if (broker.receiving) handler(message, from.nodeId)
      }, 1)
    }
  }
}

class SplitBroker implements Broker {
  publishing = true
  receiving = true
  readonly handlers = new Map<string, BrokerHandler>()
  readonly #listeners = new Set<() => void>()
  constructor(
    readonly hub: SplitHub,
    readonly nodeId: string,
  ) {
    hub.brokers.push(this)
  }
  async publish(topic: string, message: Uint8Array | string): Promise<void> {
    if (!this.publishing) throw new BrokerUnavailableError('down')
    this.hub.deliver(this, topic, messageText(message))
  }
  async subscribe(topic: string, handler: BrokerHandler): Promise<void> {
    this.handlers.set(topic, handler)
    if (!this.receiving) throw new BrokerUnavailableError('down')
  }
  async unsubscribe(topic: string): Promise<void> {
    this.handlers.delete(topic)
  }
  onReconnect(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
  async health(): Promise<boolean> {
    return this.publishing && this.receiving
  }
  async close(): Promise<void> {}
  /** Subscriptions are back: then the reconnect listeners run (as RedisBroker does). */
  restore(): void {
    this.receiving = true
    for (const listener of this.#listeners) listener()
  }
}

function reg(field: string, value: string, ms: number, node: string): Register {
  return { field, value, deleted: false, stamp: { ms, counter: 0, node }, dot: { node, seq: ms } }
}

class Node {
  readonly resolved: RemoteResolution[] = []
  readonly registers: Register[] = []
  readonly broker: SplitBroker
  readonly bridge: ClusterBridge
  constructor(hub: SplitHub, id: string) {
    this.broker = new SplitBroker(hub, id)
    this.bridge = new ClusterBridge({
      broker: this.broker,
      resolve: (r) => this.resolved.push(r),
      documentRegisters: () => [...this.registers],
      onError: () => {},
    })
  }
  /** A local write: kept, then published (as the runtime does after the commit). */
  write(register: Register): Promise<boolean> {
    this.registers.push(register)
    return this.bridge.publishRegisters('doc', [register])
  }
  received(): string[] {
    const fields = new Set<string>()
    for (const r of this.resolved)
      if (r.kind === 'remote-registers') for (const x of r.registers) fields.add(x.field)
    return [...fields].sort()
  }
}

describe('cluster resync after a broker restart that restores nodes one by one', () => {
  it('each node ends with the other node’s outage writes, whatever the order of restores', async () => {
    const hub = new SplitHub()
    const a = new Node(hub, 'a')
    const b = new Node(hub, 'b')
    await Promise.all([a.bridge.start(), b.bridge.start()])
    await a.bridge.subscribeDocument('doc')
    await b.bridge.subscribeDocument('doc')
    expect(await a.write(reg('a-before', '1', 1, 'a'))).toBe(true)
    await sleep(10)
    expect(b.received()).toEqual(['a-before'])

    // Redis dies.
    for (const n of [a, b]) {
      n.broker.publishing = false
      n.broker.receiving = false
    }
    expect(await a.write(reg('a-during', '2', 2, 'a'))).toBe(false)
    expect(await b.write(reg('b-during', '3', 3, 'b'))).toBe(false)

    // Redis is back: publishers first. A's next write publishes (nobody listens yet).
    for (const n of [a, b]) n.broker.publishing = true
    expect(await a.write(reg('a-after', '4', 4, 'a'))).toBe(true)
    await sleep(10)
    // B's subscriptions come back first, then A's.
    b.broker.restore()
    await sleep(10)
    a.broker.restore()
    await sleep(30)

    expect(a.received()).toEqual(['b-during'])
    expect(b.received()).toEqual(['a-after', 'a-before', 'a-during'])
  })
})
