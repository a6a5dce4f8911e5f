import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { createRedisBroker, type RedisBroker } from '../../adapters/redis.js'
import { defineBrokerConformance } from '../../src/testing/broker-conformance.js'
import { redisAvailable } from '../helpers/services.js'
import { sleep, waitFor } from '../helpers/wait-for.js'

const probe = await redisAvailable()
if ('skip' in probe) console.log(`[cluster-redis] skipped: ${probe.skip}`)
const url = 'url' in probe ? probe.url : ''
const suite = 'url' in probe ? describe : describe.skip

/** Channels and keys of this run only: the shared Redis is never disturbed. */
const prefix = `synckit_test_${process.pid}_${randomBytes(4).toString('hex')}:`
const errors: Error[] = []
const open = new Set<RedisBroker>()

function broker(nodeId: string, options: { prefix?: string } = {}): RedisBroker {
  const b = createRedisBroker({
    url,
    nodeId,
    prefix: options.prefix ?? prefix,
    onError: (e) => errors.push(e),
  })
  open.add(b)
  return b
}

async function healthy(...brokers: RedisBroker[]): Promise<void> {
  for (const b of brokers)
    await waitFor(() => b.health(), { timeoutMs: 5000, message: `${b.nodeId} healthy` })
}

afterAll(async () => {
  await Promise.all([...open].map((b) => b.close()))
  if (!url) return
  // Pub/sub leaves no keys, but clean up anything carrying the run's prefix all the same.
  const redis = new Redis(url, { maxRetriesPerRequest: 1 })
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      cursor = next
      if (keys.length > 0) await redis.del(...keys)
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
})

if (url) {
  defineBrokerConformance({ describe, it, expect }, 'redis', async () => {
    const id = randomBytes(3).toString('hex')
    const a = broker(`a-${id}`)
    const b = broker(`b-${id}`)
    await healthy(a, b)
    return {
      a,
      b,
      cleanup: async () => {
        await a.close()
        await b.close()
        open.delete(a)
        open.delete(b)
      },
    }
  })
}

suite('RedisBroker specifics', () => {
  it('publishes on <prefix><topic> with a node envelope, and ignores foreign traffic', async () => {
    const b = broker('env-b')
    const got: string[] = []
    await b.subscribe('doc:env', (m, from) => got.push(`${from}:${m}`))
    const raw = new Redis(url)
    try {
      const spy = new Redis(url)
      const seen: string[] = []
      spy.on('message', (_channel: string, message: string) => seen.push(message))
      await spy.subscribe(`${prefix}doc:env`)
      // Spaces, quotes and newlines in a node id survive the envelope (and CLIENT SETNAME).
      const a = broker('env a\n"q')
      await healthy(a)
      await a.publish('doc:env', 'hello\nworld')
      await raw.publish(`${prefix}doc:env`, 'no envelope at all')
      await raw.publish(`${prefix}doc:env`, '["sk0","x","y"]\nold version')
      await raw.publish(`${prefix}doc:env`, '["sk1","x","y"]\nforeign ok')
      await waitFor(() => got.length === 2, { timeoutMs: 3000, message: 'deliveries' })
      await sleep(50)
      expect(got).toEqual(['env a\n"q:hello\nworld', 'x:foreign ok'])
      await waitFor(() => seen.length >= 1, { timeoutMs: 3000 })
      const [header, ...payload] = (seen[0] ?? '').split('\n')
      expect(JSON.parse(header ?? '')).toEqual(['sk1', 'env a\n"q', expect.stringMatching(/^[0-9a-f-]{36}$/)])
      expect(payload.join('\n')).toBe('hello\nworld')
      spy.disconnect()
    } finally {
      raw.disconnect()
    }
  })

  it('isolates deployments by prefix', async () => {
    const other = `${prefix}other:`
    const a = broker('pfx-a', { prefix: other })
    const b = broker('pfx-b')
    const got: string[] = []
    await b.subscribe('doc:p', (m) => got.push(m))
    await a.subscribe('doc:p', () => {})
    await healthy(a, b)
    await a.publish('doc:p', 'wrong prefix')
    const c = broker('pfx-c')
    await healthy(c)
    await c.publish('doc:p', 'right prefix')
    await waitFor(() => got.length >= 1, { timeoutMs: 3000 })
    await sleep(50)
    expect(got).toEqual(['right prefix'])
  })

  it('delivers (and reports) messages of another process using the same node id', async () => {
    errors.length = 0
    const a = broker('twin')
    const b = broker('twin')
    await healthy(a, b)
    const got: string[] = []
    await b.subscribe('doc:twin', (m, from) => got.push(`${from}:${m}`))
    await a.publish('doc:twin', 'x')
    await waitFor(() => got.length === 1, { timeoutMs: 3000 })
    expect(got).toEqual(['twin:x'])
    expect(errors.some((e) => /node id/.test(e.message))).toBe(true)
  })

  it('waits for the first connection instead of rejecting operations issued at startup', async () => {
    const a = broker('start-a')
    const b = broker('start-b')
    const got: string[] = []
    // Issued synchronously after construction, before either connection is ready.
    await b.subscribe('doc:start', (m) => got.push(m))
    await a.publish('doc:start', 'early')
    await waitFor(() => got.length === 1, { timeoutMs: 3000 })
    expect(got).toEqual(['early'])
    expect(a.status()).toEqual({ publisher: 'ready', subscriber: 'ready' })
  })
})
