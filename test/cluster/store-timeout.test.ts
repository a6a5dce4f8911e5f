import { once } from 'node:events'
import { createServer, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createPostgresStore, SqlDocumentStore, StoreError } from '../../adapters/postgres.js'
import { createPostgresDriver } from '../../src/storage/postgres-driver.js'
import { dropSchema, postgresAvailable, testSchemaName } from '../helpers/services.js'
import { createTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js'
import { waitFor, within } from '../helpers/wait-for.js'

/**
 * Regression: a database endpoint that accepts TCP connections and drops them during the startup
 * handshake (a TCP proxy, pgbouncer, a port forward or a load balancer in front of a Postgres that
 * is down) made the `postgres` client reconnect forever without failing the queued query: `save`
 * never settled, writes were neither acked nor rejected, and persist batches piled up without
 * bound. Every store query is now bounded by `queryTimeoutMs` and fails with CONNECTION_ERROR.
 */
const pg = await postgresAvailable()
const pgUrl = 'url' in pg ? pg.url : ''

const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => {})
})

/** Accepts every connection and destroys it at once. */
async function blackHole(): Promise<number> {
  const server: Server = createServer((socket) => socket.destroy())
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('no port')
  return address.port
}

const doc = (n: number) => ({
  documentId: 'timeout-doc',
  clock: { 'node-t': n },
  registers: [
    {
      field: `f${n}`,
      value: n,
      deleted: false,
      stamp: { ms: 1_700_000_000_000 + n, counter: 0, node: 'node-t' },
      dot: { node: 'node-t', seq: n },
    },
  ],
})

/**
 * A fake Postgres that completes the startup handshake (AuthenticationOk, ReadyForQuery) and then
 * drops the connection at the first query.
 */
async function dropsAtFirstQuery(): Promise<number> {
  const server: Server = createServer((socket) => {
    let started = false
    socket.on('error', () => {})
    socket.on('data', () => {
      if (started) {
        socket.resetAndDestroy()
        return
      }
      started = true
      const auth = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]) // 'R' AuthenticationOk
      const ready = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]) // 'Z' ReadyForQuery (idle)
      socket.write(Buffer.concat([auth, ready]))
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('no port')
  return address.port
}

describe('Postgres store: a connection dropped right after the handshake', () => {
  // Regression: the `postgres` client's array-type lookup, run on every new connection, had no
  // rejection handler: a connection lost during it was an unhandled rejection, which ends a Node
  // process (the CLI). The store uses no array types, so the lookup is off.
  it('fails the query with CONNECTION_ERROR and leaves no unhandled rejection', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason)
    }
    process.on('unhandledRejection', onUnhandled)
    closers.push(async () => {
      process.off('unhandledRejection', onUnhandled)
    })
    const port = await dropsAtFirstQuery()
    const store = new SqlDocumentStore(
      createPostgresDriver({
        url: `postgres://postgres@127.0.0.1:${port}/test`,
        queryTimeoutMs: 2000,
        max: 1,
      }),
    )
    // Not awaited: ending a client whose connection keeps being dropped waits out its 5 s timeout.
    closers.push(async () => {
      void store.close().catch(() => {})
    })
    const error = await within(
      store.save([doc(1)]).then(
        () => undefined,
        (e: unknown) => e,
      ),
      5000,
      'save to settle',
    )
    expect(error).toMatchObject({ code: 'CONNECTION_ERROR' })
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(unhandled).toEqual([])
  })
})

describe('Postgres store: queries are bounded when connections drop during the handshake', () => {
  it('save, load and health fail within queryTimeoutMs instead of hanging', async () => {
    const port = await blackHole()
    const store = new SqlDocumentStore(
      createPostgresDriver({ url: `postgres://postgres@127.0.0.1:${port}/test`, queryTimeoutMs: 300 }),
    )
    // Not awaited: ending a client whose connection keeps being dropped waits out its 5 s timeout.
    closers.push(async () => {
      void store.close().catch(() => {})
    })
    const started = performance.now()
    const error = await within(
      store.save([doc(1)]).then(
        () => undefined,
        (e: unknown) => e,
      ),
      5000,
      'save to settle',
    )
    expect(error).toBeInstanceOf(StoreError)
    expect((error as StoreError).code).toBe('CONNECTION_ERROR')
    expect((error as StoreError).message).toMatch(/timed out after 300 ms/)
    expect(performance.now() - started).toBeLessThan(3000)
    await expect(within(store.load('timeout-doc'), 5000, 'load to settle')).rejects.toMatchObject({
      code: 'CONNECTION_ERROR',
    })
    expect(await within(store.health(), 5000, 'health')).toBe(false)
  })

  it.skipIf(!pgUrl)('through a proxy that is cut and restored: fails while cut, works after', async () => {
    const schema = testSchemaName()
    closers.push(() => dropSchema(pgUrl, schema))
    const target = new URL(pgUrl)
    const proxy: TcpProxy = await createTcpProxy({ targetPort: Number(target.port || 5432) })
    closers.push(() => proxy.close())
    const proxied = new URL(pgUrl)
    proxied.hostname = '127.0.0.1'
    proxied.port = String(proxy.port)
    const store = await createPostgresStore({ url: proxied.toString(), schema, queryTimeoutMs: 500, max: 2 })
    closers.push(() => store.close())
    await store.save([doc(1)])

    proxy.cut()
    const messages: string[] = []
    for (let n = 2; n < 40 && !messages.some((m) => /unreachable/.test(m)); n++) {
      const started = performance.now()
      const error = await within(
        store.save([doc(n)]).then(
          () => undefined,
          (e: unknown) => e,
        ),
        5000,
        `save ${n} to settle`,
      )
      expect(error).toMatchObject({ code: 'CONNECTION_ERROR' })
      expect(performance.now() - started).toBeLessThan(2000)
      messages.push((error as Error).message)
    }
    // Once 2 × max (4) queries are stalled, further ones fail at once instead of queueing up.
    // (Some attempts fail with ECONNRESET instead, depending on when the proxy drops them.)
    expect(messages.at(-1)).toMatch(/database unreachable \(4 queries past 500 ms still waiting\)/)
    expect(await store.health()).toBe(false)

    proxy.restore()
    // The stalled queries run (or fail) once the client reconnects; then saves work again.
    await waitFor(
      () =>
        store.save([doc(50)]).then(
          () => true,
          () => false,
        ),
      { timeoutMs: 15_000, intervalMs: 200, message: 'a save after restore' },
    )
    const loaded = await store.load('timeout-doc')
    const fields = loaded?.registers.map((r) => r.field) ?? []
    expect(fields).toContain('f1')
    expect(fields).toContain('f50')
  })
})
