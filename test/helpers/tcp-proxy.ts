import { once } from 'node:events'
import { createConnection, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP proxy on 127.0.0.1 for outage tests: put it between a server and a dependency (Postgres,
 * another node) and `cut()` it to simulate the dependency vanishing without disturbing the real
 * service other work on the machine shares.
 *
 * - `cut()`: every open connection is destroyed (both sides see a reset/close) and new ones are
 *   accepted and destroyed at once (the client sees the connection drop, like a refused connect).
 * - `restore()`: new connections are piped to the target again.
 * - `retarget(port)`: later connections go to another port (existing ones are left alone; call
 *   `dropAll()` to move them): a load balancer without stickiness.
 */
export interface TcpProxy {
  readonly port: number
  readonly isCut: boolean
  /** Connections accepted and piped so far (not counting those refused while cut). */
  readonly accepted: number
  /** Open client connections. */
  readonly open: number
  cut(): void
  restore(): void
  retarget(port: number, host?: string): void
  /** Destroys every open connection, leaving the proxy accepting. */
  dropAll(): void
  close(): Promise<void>
}

export interface TcpProxyOptions {
  targetPort: number
  targetHost?: string
  /** Listening port; default 0 (a free one). Always bound to 127.0.0.1. */
  port?: number
}

export async function createTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  let targetPort = options.targetPort
  let targetHost = options.targetHost ?? '127.0.0.1'
  let isCut = false
  let accepted = 0
  const pairs = new Set<[Socket, Socket]>()

  const server: Server = createServer((client) => {
    if (isCut) {
      client.destroy()
      return
    }
    accepted++
    client.setNoDelay(true)
    const upstream = createConnection({ host: targetHost, port: targetPort })
    upstream.setNoDelay(true)
    const pair: [Socket, Socket] = [client, upstream]
    pairs.add(pair)
    const teardown = (): void => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', teardown)
    upstream.on('error', teardown)
    client.on('close', teardown)
    upstream.on('close', teardown)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  server.listen(options.port ?? 0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('tcp proxy: no port')

  const dropAll = (): void => {
    for (const [client, upstream] of [...pairs]) {
      // resetAndDestroy where available: the peer sees ECONNRESET, as with a dead server.
      client.resetAndDestroy()
      upstream.resetAndDestroy()
    }
    pairs.clear()
  }

  return {
    port: address.port,
    get isCut() {
      return isCut
    },
    get accepted() {
      return accepted
    },
    get open() {
      return pairs.size
    },
    cut() {
      isCut = true
      dropAll()
    },
    restore() {
      isCut = false
    },
    retarget(port: number, host?: string) {
      targetPort = port
      if (host !== undefined) targetHost = host
    },
    dropAll,
    async close() {
      isCut = true
      dropAll()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
