import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createRedisBroker, type RedisBroker } from '../../adapters/redis.js'
import { BrokerUnavailableError } from '../../src/cluster/broker.js'
import { tcpReachable } from '../helpers/services.js'
import { sleep, waitFor, within } from '../helpers/wait-for.js'

/**
 * Redis outages without touching the shared Redis: each test runs its own throwaway redis-server
 * (no persistence) on a free port, kills it with SIGKILL and starts it again on the same port.
 */
const binary = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
const missing = binary.error ? `redis-server not runnable (${binary.error.message})` : undefined
if (missing && process.env.CI) throw new Error(`CI: ${missing}`)
if (missing) console.log(`[cluster-redis-outage] skipped: ${missing}`)
const suite = missing ? describe.skip : describe

const servers = new Set<ChildProcess>()
const brokers = new Set<RedisBroker>()

async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  if (!address || typeof address === 'string') throw new Error('no port')
  return address.port
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  )
  servers.add(child)
  child.once('exit', () => servers.delete(child))
  await waitFor(async () => (await tcpReachable('127.0.0.1', port, 200)) === undefined, {
    timeoutMs: 5000,
    message: `redis-server on ${port}`,
  })
  return child
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await within(exited, 5000, 'redis-server exit')
}

function broker(port: number, nodeId: string, errors: Error[]): RedisBroker {
  const b = createRedisBroker({
    url: `redis://127.0.0.1:${port}`,
    nodeId,
    backoff: { initialMs: 20, maxMs: 200 },
    startupTimeoutMs: 300,
    onError: (e) => errors.push(e),
  })
  brokers.add(b)
  return b
}

function reconnected(b: RedisBroker): { count: () => number; next: () => Promise<void> } {
  let count = 0
  let waiters: Array<() => void> = []
  b.onReconnect(() => {
    count++
    for (const w of waiters) w()
    waiters = []
  })
  return { count: () => count, next: () => new Promise((resolve) => waiters.push(resolve)) }
}

async function timed(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now()
  try {
    await promise
    return { error: undefined, ms: performance.now() - started }
  } catch (error) {
    return { error, ms: performance.now() - started }
  }
}

afterEach(async () => {
  await Promise.all([...brokers].map((b) => b.close()))
  brokers.clear()
})
afterAll(async () => {
  await Promise.all([...servers].map(kill))
})

suite('RedisBroker when Redis goes down', () => {
  it('rejects fast while down, then restores subscriptions and fires onReconnect', async () => {
    const port = await freePort()
    let server = await startRedis(port)
    const errors: Error[] = []
    const a = broker(port, 'out-a', errors)
    const b = broker(port, 'out-b', errors)
    const got: string[] = []
    await b.subscribe('doc:kept', (m) => got.push(`kept:${m}`))
    await b.subscribe('doc:gone', (m) => got.push(`gone:${m}`))
    await a.publish('doc:kept', 'before')
    await waitFor(() => got.length === 1, { timeoutMs: 3000, message: 'delivery before the outage' })
    const reA = reconnected(a)
    const reB = reconnected(b)

    await kill(server)
    await waitFor(async () => !(await a.health()) && !(await b.health()), {
      timeoutMs: 3000,
      message: 'health false',
    })
    const publish = await timed(a.publish('doc:kept', 'during'))
    expect(publish.error).toBeInstanceOf(BrokerUnavailableError)
    expect(publish.ms).toBeLessThan(100)
    const subscribe = await timed(b.subscribe('doc:late', (m) => got.push(`late:${m}`)))
    expect(subscribe.error).toBeInstanceOf(BrokerUnavailableError)
    expect(subscribe.ms).toBeLessThan(100)
    await within(b.unsubscribe('doc:gone'), 100, 'unsubscribe while down')
    const health = await timed(a.health())
    expect(health.ms).toBeLessThan(100)
    expect(reA.count() + reB.count()).toBe(0)

    const back = Promise.all([reA.next(), reB.next()])
    server = await startRedis(port)
    await within(back, 10_000, 'onReconnect on both nodes')
    expect(await a.health()).toBe(true)
    expect(await b.health()).toBe(true)

    await a.publish('doc:gone', 'x')
    await a.publish('doc:late', 'y')
    await a.publish('doc:kept', 'after')
    await waitFor(() => got.includes('kept:after'), { timeoutMs: 3000, message: 'delivery after the outage' })
    await sleep(50)
    expect(got).toEqual(['kept:before', 'late:y', 'kept:after'])
    expect(reA.count()).toBe(1)
    expect(reB.count()).toBe(1)
    // One report per outage and broker, not one per reconnect attempt.
    expect(errors.length).toBeGreaterThan(0)
    expect(errors.length).toBeLessThanOrEqual(4)
    await kill(server)
  })

  it('starting while Redis is down: operations reject after the startup bound, then work once it is up', async () => {
    const port = await freePort()
    const a = broker(port, 'boot-a', [])
    const b = broker(port, 'boot-b', [])
    const reB = reconnected(b)
    const got: string[] = []
    const subscribe = await timed(b.subscribe('doc:boot', (m) => got.push(m)))
    expect(subscribe.error).toBeInstanceOf(BrokerUnavailableError)
    expect(subscribe.ms).toBeLessThan(1000)
    expect(await a.health()).toBe(false)

    const back = reB.next()
    const server = await startRedis(port)
    await within(back, 10_000, 'onReconnect after the first connection')
    await waitFor(() => a.health(), { timeoutMs: 5000, message: 'a healthy' })
    await a.publish('doc:boot', 'hello')
    await waitFor(() => got.length === 1, { timeoutMs: 3000, message: 'delivery' })
    expect(got).toEqual(['hello'])
    await kill(server)
  })

  it('close during an outage is bounded and final', async () => {
    const port = await freePort()
    let server = await startRedis(port)
    const a = broker(port, 'close-a', [])
    const reA = reconnected(a)
    await waitFor(() => a.health(), { timeoutMs: 5000, message: 'a healthy' })
    await kill(server)
    await waitFor(async () => !(await a.health()), { timeoutMs: 3000, message: 'health false' })
    await within(a.close(), 3000, 'close while down')
    await expect(a.publish('doc:x', 'y')).rejects.toThrow(/closed/)
    // Final: it does not come back when Redis does.
    server = await startRedis(port)
    await sleep(500)
    expect(Object.values(a.status())).not.toContain('ready')
    expect(await a.health()).toBe(false)
    expect(reA.count()).toBe(0)
    await kill(server)
  })
})
