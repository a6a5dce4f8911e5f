import type { ConnectionHandle, SyncSocket, UpgradeRequest } from '../src/server/options.js'
import { DEFAULT_HIGH_WATER_MARK, type SyncServerTransport, toBytes } from './transport.js'

/**
 * `synckit-engine/crossws`: the sync server as crossws hooks, so it mounts wherever crossws runs:
 * Nitro and Nuxt (`defineWebSocketHandler`), h3, and crossws's own adapters for Node, Bun, Deno
 * and more. The parts of crossws used are typed here: crossws is not a dependency.
 *
 *   const sync = createSyncServer({ auth: { required: false } })
 *   const ws = crossws({ hooks: createCrosswsHooks(sync) })          // crossws/adapters/node
 *   server.on('upgrade', (req, socket, head) => ws.handleUpgrade(req, socket, head))
 */

/** A crossws `Peer`. */
export interface CrosswsPeer {
  readonly id: string
  readonly request: { readonly url: string; readonly headers: Headers }
  readonly remoteAddress?: string | undefined
  /** 0 on adapters without a send-buffer signal. */
  readonly bufferedAmount?: number
  /** Sends a frame (its result differs between adapters, so it is not read). */
  send(data: string | Uint8Array): unknown
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void
  /** Drops the connection without a handshake, where the adapter can. */
  terminate?(): void
}

/** A crossws `Message`: text frames arrive as strings (`rawData`), binary ones as bytes. */
export interface CrosswsMessage {
  readonly rawData: unknown
  /** The frame's bytes. */
  uint8Array(): Uint8Array
}

/** Options of `createCrosswsHooks`. */
export interface CrosswsHooksOptions {
  /** Answer upgrades on other paths with 404. Default: any path (the framework routes). */
  path?: string
  /** Above this many buffered bytes `send` reports backpressure (-1). Default: the server's. */
  highWaterMark?: number
}

/** The hooks object for `crossws({ hooks })`, `defineWebSocketHandler(...)` or `defineHooks(...)`. */
export interface SyncCrosswsHooks {
  /** Before the handshake: a `Response` refuses the upgrade, `undefined` lets it through. */
  upgrade(request: { readonly url: string }): Response | undefined
  /** A peer connected: it becomes a connection of the server. */
  open(peer: CrosswsPeer): void
  /** A frame from the peer. */
  message(peer: CrosswsPeer, message: CrosswsMessage): void
  /** The peer closed. */
  close(peer: CrosswsPeer): void
  /** The peer's socket failed: the connection ends. */
  error(peer: CrosswsPeer): void
  /** The peer's send buffer drained (adapters that report it). */
  drain(peer: CrosswsPeer): void
}

interface Connection {
  handle: ConnectionHandle | undefined
  open: boolean
}

/**
 * Each peer is one connection of `server`. crossws keeps peers alive with its own protocol pings
 * (not every adapter reports pongs), so the server's heartbeat is left out; `drain` and
 * `bufferedAmount` give it backpressure where the adapter has them.
 */
export function createCrosswsHooks(
  server: SyncServerTransport,
  options: CrosswsHooksOptions = {},
): SyncCrosswsHooks {
  const highWaterMark = options.highWaterMark ?? server.limits?.highWaterMark ?? DEFAULT_HIGH_WATER_MARK
  const connections = new Map<string, Connection>()
  const end = (peer: CrosswsPeer): void => {
    const connection = connections.get(peer.id)
    if (!connection) return
    connections.delete(peer.id)
    connection.open = false
    connection.handle?.closed()
  }
  return {
    upgrade(request) {
      if (options.path === undefined || pathnameOf(request.url) === options.path) return undefined
      return new Response('Not Found', { status: 404 })
    },
    open(peer) {
      const connection: Connection = { handle: undefined, open: true }
      connections.set(peer.id, connection)
      connection.handle = server.handleConnection(
        socketOf(peer, connection, highWaterMark),
        upgradeRequestOf(peer),
      )
    },
    message(peer, message) {
      const raw = message.rawData
      const frame =
        typeof raw === 'string' ? raw : raw instanceof Uint8Array ? raw : toBytes(message.uint8Array())
      connections.get(peer.id)?.handle?.receive(frame)
    },
    close: end,
    error: end,
    drain(peer) {
      connections.get(peer.id)?.handle?.drained()
    },
  }
}

function socketOf(peer: CrosswsPeer, connection: Connection, highWaterMark: number): SyncSocket {
  return {
    send(data) {
      if (!connection.open) return 0
      try {
        peer.send(data)
      } catch {
        return 0
      }
      if ((peer.bufferedAmount ?? 0) > highWaterMark) return -1
      return typeof data === 'string' ? data.length : data.byteLength
    },
    close(code, reason) {
      try {
        peer.close(code, reason)
      } catch {
        peer.terminate?.()
      }
    },
    bufferedAmount: () => peer.bufferedAmount ?? 0,
    ...(peer.terminate ? { terminate: () => peer.terminate?.() } : {}),
  }
}

function upgradeRequestOf(peer: CrosswsPeer): UpgradeRequest {
  const url = new URL(peer.request.url, 'http://localhost')
  const request: UpgradeRequest = { url: url.pathname + url.search, headers: peer.request.headers }
  if (peer.remoteAddress) request.remoteAddress = peer.remoteAddress
  return request
}

function pathnameOf(url: string): string {
  try {
    return new URL(url, 'http://localhost').pathname
  } catch {
    return ''
  }
}
