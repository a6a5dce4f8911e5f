import { describe, expect, it } from 'vitest'
import { BrokerClosedError, BrokerUnavailableError, NoopBroker } from '../../src/cluster/broker.js'
import { MemoryBrokerHub } from '../../src/cluster/memory-broker.js'
import { defineBrokerConformance } from '../../src/testing/broker-conformance.js'
import { within } from '../helpers/wait-for.js'

defineBrokerConformance({ describe, it, expect }, 'memory', async () => {
  const hub = new MemoryBrokerHub({ onError: () => {} })
  const a = hub.createBroker('node-a')
  const b = hub.createBroker('node-b')
  return {
    a,
    b,
    cleanup: async () => {
      await a.close()
      await b.close()
    },
  }
})

describe('MemoryBrokerHub', () => {
  it('delivers asynchronously, to every other subscriber, and idle() waits for it', async () => {
    const hub = new MemoryBrokerHub()
    const [a, b, c] = ['a', 'b', 'c'].map((id) => hub.createBroker(id))
    const got: string[] = []
    await b?.subscribe('t', (m, from) => got.push(`b:${m}:${from}`))
    await c?.subscribe('t', (m, from) => got.push(`c:${m}:${from}`))
    await a?.publish('t', 'x')
    expect(got).toEqual([])
    await within(hub.idle(), 1000, 'idle')
    expect(got.sort()).toEqual(['b:x:a', 'c:x:a'])
  })

  it('refuses duplicate node ids among open brokers', async () => {
    const hub = new MemoryBrokerHub()
    const a = hub.createBroker('a')
    expect(() => hub.createBroker('a')).toThrow(/Duplicate/)
    await a.close()
    expect(hub.createBroker('a').nodeId).toBe('a')
  })

  it('simulates an outage: publish rejects, nothing arrives, subscriptions survive, onReconnect fires', async () => {
    const hub = new MemoryBrokerHub()
    const a = hub.createBroker('a')
    const b = hub.createBroker('b')
    const got: string[] = []
    await b.subscribe('t', (m) => got.push(m))
    let reconnects = 0
    b.onReconnect(() => reconnects++)

    hub.disconnect('b')
    expect(await b.health()).toBe(false)
    await expect(b.publish('t', 'x')).rejects.toBeInstanceOf(BrokerUnavailableError)
    // Registered while down: rejected now, live after reconnect.
    await expect(b.subscribe('late', (m) => got.push(`late:${m}`))).rejects.toBeInstanceOf(
      BrokerUnavailableError,
    )
    await a.publish('t', 'missed')
    await hub.idle()
    expect(got).toEqual([])

    hub.reconnect('b')
    await within(new Promise<void>((resolve) => b.onReconnect(resolve)), 1000, 'onReconnect')
    expect(reconnects).toBe(1)
    expect(await b.health()).toBe(true)
    await a.publish('t', 'y')
    await a.publish('late', 'z')
    await hub.idle()
    expect(got).toEqual(['y', 'late:z'])
  })

  it('drops messages queued for a node that disconnects before they are delivered', async () => {
    const hub = new MemoryBrokerHub()
    const a = hub.createBroker('a')
    const b = hub.createBroker('b')
    const got: string[] = []
    await b.subscribe('t', (m) => got.push(m))
    await a.publish('t', 'x')
    hub.disconnect('b')
    await hub.idle()
    expect(got).toEqual([])
  })
})

describe('NoopBroker', () => {
  it('accepts everything, delivers nothing, is healthy until closed', async () => {
    const broker = new NoopBroker('solo')
    expect(broker.nodeId).toBe('solo')
    const got: string[] = []
    await broker.subscribe('t', (m) => got.push(m))
    await broker.publish('t', 'x')
    await broker.publish('t', new Uint8Array([1]))
    await broker.unsubscribe('t')
    broker.onReconnect(() => got.push('reconnect'))()
    expect(got).toEqual([])
    expect(await broker.health()).toBe(true)
    await broker.close()
    await broker.close()
    expect(await broker.health()).toBe(false)
    await expect(broker.publish('t', 'x')).rejects.toBeInstanceOf(BrokerClosedError)
  })
})
