import type { Broker } from '../cluster/broker.js'

/**
 * The acceptance suite every `Broker` must pass, framework-agnostic (vitest, jest, mocha + an
 * expect library): pass your framework's functions and a factory of two connected brokers.
 *
 * ```ts
 * import { describe, it, expect } from 'vitest'
 * defineBrokerConformance({ describe, it, expect }, 'my broker', async () => {
 *   const a = ..., b = ...
 *   return { a, b, cleanup: async () => { await a.close(); await b.close() } }
 * })
 * ```
 *
 * Each test builds its own pair and cleans it up, so the optional hooks are not needed. Negative
 * checks ("X was not delivered") use a barrier message published after X plus a short grace period.
 */
export interface ConformanceTestApi {
  /** Your framework's `describe`. */
  describe(name: string, body: () => void): void
  /** Your framework's `it`. */
  it(name: string, body: () => Promise<void>, timeoutMs?: number): void
  /** Your framework's `expect` (only `toBe` and `toEqual` are used). */
  expect(actual: unknown): {
    /** `Object.is` equality. */
    toBe(expected: unknown): void
    /** Deep equality. */
    toEqual(expected: unknown): void
  }
  /** Your framework's `beforeEach`. */
  beforeEach?(body: () => Promise<void> | void): void
  /** Your framework's `afterEach`. */
  afterEach?(body: () => Promise<void> | void): void
}

/** Two brokers of one cluster, as the suite needs them. */
export interface BrokerPair {
  a: Broker
  b: Broker
  /** Closes both brokers and removes what they created. */
  cleanup(): Promise<void>
}

/** Options of the broker suite. */
export interface BrokerConformanceOptions {
  /** Upper bound of every wait for a delivery (ms). Default 5000. */
  deliveryTimeoutMs?: number
  /** How long a message that must not arrive is given to arrive anyway (ms). Default 50. */
  graceMs?: number
}

interface Received {
  topic: string
  message: string
  from: string
}

class Inbox {
  readonly received: Received[] = []

  handler(topic: string): (message: string, from: string) => void {
    return (message, from) => {
      this.received.push({ topic, message, from })
    }
  }

  on(topic: string): string[] {
    return this.received.filter((r) => r.topic === topic).map((r) => r.message)
  }
}

/** Defines the broker acceptance suite with your test framework's functions. */
export function defineBrokerConformance(
  t: ConformanceTestApi,
  name: string,
  factory: () => Promise<BrokerPair>,
  options: BrokerConformanceOptions = {},
): void {
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? 5000
  const graceMs = options.graceMs ?? 50
  const testTimeoutMs = deliveryTimeoutMs * 3 + 5000

  const until = async (label: string, predicate: () => boolean): Promise<void> => {
    const deadline = Date.now() + deliveryTimeoutMs
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`${name}: timed out after ${deliveryTimeoutMs} ms: ${label}`)
      await sleep(5)
    }
  }

  const test = (title: string, body: (pair: BrokerPair, topic: (n: string) => string) => Promise<void>) => {
    t.it(
      title,
      async () => {
        const pair = await factory()
        const run = Math.random().toString(36).slice(2, 10)
        try {
          await body(pair, (n) => `conformance:${run}:${n}`)
        } finally {
          await pair.cleanup()
        }
      },
      testTimeoutMs,
    )
  }

  t.describe(`Broker conformance: ${name}`, () => {
    test('delivers to the other node with its node id, never back to the publisher', async ({
      a,
      b,
    }, topic) => {
      const t1 = topic('t')
      const inA = new Inbox()
      const inB = new Inbox()
      await a.subscribe(t1, inA.handler(t1))
      await b.subscribe(t1, inB.handler(t1))
      await a.publish(t1, 'from-a')
      await until('b receives from-a', () => inB.received.length === 1)
      t.expect(inB.received).toEqual([{ topic: t1, message: 'from-a', from: a.nodeId }])
      // Barrier: anything of a's own delivered to a would precede b's later message.
      await b.publish(t1, 'from-b')
      await until('a receives from-b', () => inA.received.length >= 1)
      await sleep(graceMs)
      t.expect(inA.received).toEqual([{ topic: t1, message: 'from-b', from: b.nodeId }])
      t.expect(inB.on(t1)).toEqual(['from-a'])
      t.expect(a.nodeId === b.nodeId).toBe(false)
    })

    test('a subscription is live as soon as subscribe resolves', async ({ a, b }, topic) => {
      const inB = new Inbox()
      for (let i = 0; i < 20; i++) {
        const ti = topic(`live-${i}`)
        await b.subscribe(ti, inB.handler(ti))
        await a.publish(ti, `m${i}`)
      }
      await until('b receives 20 messages', () => inB.received.length === 20)
      t.expect(inB.received.map((r) => r.message)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`))
    })

    test('unsubscribe stops delivery', async ({ a, b }, topic) => {
      const gone = topic('gone')
      const kept = topic('kept')
      const inB = new Inbox()
      await b.subscribe(gone, inB.handler(gone))
      await b.subscribe(kept, inB.handler(kept))
      await a.publish(gone, 'before')
      await until('b receives before', () => inB.on(gone).length === 1)
      await b.unsubscribe(gone)
      await a.publish(gone, 'after')
      await a.publish(kept, 'barrier')
      await until('b receives the barrier', () => inB.on(kept).length === 1)
      await sleep(graceMs)
      t.expect(inB.on(gone)).toEqual(['before'])
      await b.unsubscribe(gone) // idempotent
    })

    test('topics are isolated', async ({ a, b }, topic) => {
      const mine = topic('mine')
      const other = topic('other')
      const inA = new Inbox()
      const inB = new Inbox()
      await a.subscribe(other, inA.handler(other))
      await b.subscribe(mine, inB.handler(mine))
      await a.publish(other, 'not-for-b')
      await b.publish(other, 'for-a')
      await a.publish(mine, 'for-b')
      await until('b receives for-b', () => inB.received.length >= 1)
      await until('a receives for-a', () => inA.received.length >= 1)
      await sleep(graceMs)
      t.expect(inB.received).toEqual([{ topic: mine, message: 'for-b', from: a.nodeId }])
      t.expect(inA.received).toEqual([{ topic: other, message: 'for-a', from: b.nodeId }])
    })

    test('preserves order per publisher per topic', async ({ a, b }, topic) => {
      const t1 = topic('order')
      const inB = new Inbox()
      await b.subscribe(t1, inB.handler(t1))
      const count = 500
      // Issued back to back without awaiting each: the order of the calls is the order promised.
      await Promise.all(Array.from({ length: count }, (_, i) => a.publish(t1, String(i))))
      await until(`b receives ${count} messages`, () => inB.received.length === count)
      t.expect(inB.on(t1)).toEqual(Array.from({ length: count }, (_, i) => String(i)))
    })

    test('subscribing again replaces the handler', async ({ a, b }, topic) => {
      const t1 = topic('replace')
      const first = new Inbox()
      const second = new Inbox()
      await b.subscribe(t1, first.handler(t1))
      await b.subscribe(t1, second.handler(t1))
      await a.publish(t1, 'x')
      await until('the second handler receives x', () => second.received.length === 1)
      await sleep(graceMs)
      t.expect(first.received).toEqual([])
    })

    test('a throwing handler does not stop later deliveries', async ({ a, b }, topic) => {
      const t1 = topic('throw')
      const seen: string[] = []
      await b.subscribe(t1, (message) => {
        seen.push(message)
        if (message === 'boom') throw new Error('handler failure (expected by the conformance suite)')
      })
      await a.publish(t1, 'boom')
      await a.publish(t1, 'after')
      await until('b receives after', () => seen.length === 2)
      t.expect(seen).toEqual(['boom', 'after'])
    })

    test('carries 1 MB, multi-line, non-ASCII and binary (UTF-8) payloads intact', async ({
      a,
      b,
    }, topic) => {
      const t1 = topic('large')
      const inB = new Inbox()
      await b.subscribe(t1, inB.handler(t1))
      const unit = '{"k":"line\\n\n\t✓ 😀 \\"quoted\\" \u0000"}'
      const large = unit.repeat(Math.ceil((1024 * 1024) / unit.length))
      await a.publish(t1, large)
      await a.publish(t1, new TextEncoder().encode('bytes ✓ 😀'))
      await until('b receives both payloads', () => inB.received.length === 2)
      t.expect(inB.received[0]?.message.length).toBe(large.length)
      t.expect(inB.received[0]?.message === large).toBe(true)
      t.expect(inB.received[1]?.message).toBe('bytes ✓ 😀')
    })

    test('reports health; close is idempotent and final', async ({ a, b }, topic) => {
      t.expect(await a.health()).toBe(true)
      t.expect(await b.health()).toBe(true)
      const stop = a.onReconnect(() => {})
      t.expect(typeof stop).toBe('function')
      stop()
      await a.close()
      await a.close()
      t.expect(await a.health()).toBe(false)
      t.expect(await rejects(a.publish(topic('closed'), 'x'))).toBe(true)
      t.expect(await rejects(a.subscribe(topic('closed'), () => {}))).toBe(true)
      await a.unsubscribe(topic('closed'))
      t.expect(await b.health()).toBe(true)
    })
  })
}

async function rejects(promise: Promise<unknown>): Promise<boolean> {
  try {
    await promise
    return false
  } catch {
    return true
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
