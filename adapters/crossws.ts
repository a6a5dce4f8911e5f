import {
  type ConnectionHandle,
  refusalResponse,
  type SyncSocket,
  type UpgradeAdmission,
  type UpgradeRequest,
} from '../src/server/transport.js'
import { DEFAULT_HIGH_WATER_MARK, type SyncServerTransport, toBytes } from './transport.js'

/**
 * `synckit-engine/crossws`: the sync server as crossws hooks, so it mounts wherever crossws runs:
 * Nitro and Nuxt (`defineWebSocketHandler`), h3, and crossws's own adapters for Node, Bun, Deno
 * and more. The parts of crossws used are typed here: crossws is not a dependency.
 *
 *   const sync = createSyncServer({ auth: { required: false } })
 *   const ws = crossws({ hooks: createCrosswsHooks(sync) })          // crossws/adapters/node
 *   server.on('upgrade', (req, socket, head) => {
 *     ws.handleUpgrade(req, socket, head, nodeUpgradeRequest(req))
 *   })
 *
 * The `upgrade` hook is the upgrade check (`sync.upgrade`): a refused request gets its HTTP status
 * and JSON body and no WebSocket; an admitted one reaches `open` through the peer's context.
 */

/** A crossws `Peer`. */
export interface CrosswsPeer {
  readonly id: string
  readonly request: { readonly url: string; readonly headers: Headers }
  readonly remoteAddress?: string | undefined
  /** What the `upgrade` hook returned as `context` (crossws keeps it with the peer). */
  readonly context?: Readonly<Record<string, unknown>>
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

/**
 * The request the `upgrade` hook gets. `ip` is the client address where the server provides it
 * (srvx's requests do: crossws/server, and the frameworks built on srvx; `nodeUpgradeRequest` on
 * crossws's Node adapter).
 */
export interface CrosswsUpgradeRequest {
  readonly url: string
  readonly headers: Headers
  readonly ip?: unknown
}

/** Options of `createCrosswsHooks`. */
export interface CrosswsHooksOptions {
  /**
   * WebSocket path: upgrades on other paths get 404. Default: any path, since the framework's
   * route (Nitro's `server/routes/…`) already decides which requests reach the hooks.
   */
  path?: string
  /** Above this many buffered bytes `send` reports backpressure (-1). Default: the server's. */
  highWaterMark?: number
}

/** The hooks for `crossws({ hooks })`, `defineWebSocketHandler(...)` or `defineHooks(...)`. */
export interface SyncCrosswsHooks {
  /**
   * Before the handshake, `sync.upgrade`: a refusal is a `Response` (its status and JSON body, no
   * WebSocket); an admission travels to `open` as the peer's `context`.
   */
  upgrade(request: CrosswsUpgradeRequest): Promise<Response | { context: Record<string, unknown> }>
  /** A peer connected: it becomes a connection of the server, with its admission. */
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

/** The key of the peer context under which the admission goes from `upgrade` to `open`. */
const ADMITTED = 'synckitAdmission'

/** What `upgrade` hands to `open`: the request as checked, and the admission for it. */
interface Admitted {
  readonly request: UpgradeRequest
  readonly admission: UpgradeAdmission
}

interface Connection {
  handle: ConnectionHandle | undefined
  open: boolean
}

/**
 * Each peer is one connection of `sync`. crossws keeps peers alive with its own protocol pings
 * (not every adapter reports pongs), so the server's heartbeat is left out; `drain` and
 * `bufferedAmount` give it backpressure where the adapter has them.
 */
export function createCrosswsHooks(
  sync: SyncServerTransport,
  options: CrosswsHooksOptions = {},
): SyncCrosswsHooks {
  const highWaterMark = options.highWaterMark ?? sync.limits?.highWaterMark ?? DEFAULT_HIGH_WATER_MARK
  const connections = new Map<string, Connection>()
  const end = (peer: CrosswsPeer): void => {
    const connection = connections.get(peer.id)
    if (!connection) return
    connections.delete(peer.id)
    connection.open = false
    connection.handle?.closed()
  }
  return {
    async upgrade(request) {
      if (options.path !== undefined && pathnameOf(request.url) !== options.path) {
        return new Response('Not Found', { status: 404 })
      }
      const checked = upgradeRequestOf(request.url, request.headers, request.ip)
      let result: Awaited<ReturnType<SyncServerTransport['upgrade']>>
      try {
        result = await sync.upgrade(checked)
      } catch (error) {
        // crossws would answer 500 without a word: say why once.
        sync.logger?.error({ err: error, url: checked.url }, 'upgrade check failed')
        throw error
      }
      if (!result.ok) return refusalResponse(result)
      const admitted: Admitted = { request: checked, admission: result }
      return { context: { [ADMITTED]: admitted } }
    },
    open(peer) {
      const connection: Connection = { handle: undefined, open: true }
      connections.set(peer.id, connection)
      // Without an admission (an adapter that lost the context), every check runs here instead,
      // refusing with a close code.
      const admitted = peer.context?.[ADMITTED] as Admitted | undefined
      let request = admitted?.request ?? upgradeRequestOf(peer.request.url, peer.request.headers, undefined)
      // The socket knows the address the upgrade request did not: the per-IP cap applies now.
      if (request.remoteAddress === undefined && peer.remoteAddress) {
        request = { ...request, remoteAddress: peer.remoteAddress }
      }
      connection.handle = sync.handleConnection(
        socketOf(peer, connection, highWaterMark),
        request,
        admitted?.admission,
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

/** The parts of a node:http `IncomingMessage` that `nodeUpgradeRequest` reads. */
export interface NodeUpgradeMessage {
  readonly url?: string | undefined
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly socket: { readonly remoteAddress?: string | undefined; readonly encrypted?: boolean }
}

/**
 * crossws's Node adapter gives the `upgrade` hook a request without the client's address, so the
 * per-IP cap can only refuse once the socket is open (close 1008). Pass this as `handleUpgrade`'s
 * fourth argument and it refuses with 429 before the handshake:
 *
 *   server.on('upgrade', (req, socket, head) => {
 *     ws.handleUpgrade(req, socket, head, nodeUpgradeRequest(req))
 *   })
 *
 * Undefined (crossws then builds its own) for a request whose URL or headers a Web `Request`
 * cannot hold.
 */
export function nodeUpgradeRequest(
  req: NodeUpgradeMessage,
): (Request & { readonly ip?: string }) | undefined {
  try {
    const scheme = req.socket.encrypted ? 'https' : 'http'
    const host = typeof req.headers.host === 'string' ? req.headers.host : 'localhost'
    const headers = new Headers()
    for (const [name, value] of Object.entries(req.headers)) {
      if (Array.isArray(value)) for (const item of value) headers.append(name, item)
      else if (value !== undefined) headers.set(name, value)
    }
    const request = new Request(new URL(req.url ?? '/', `${scheme}://${host}`), { headers })
    const ip = req.socket.remoteAddress
    return ip === undefined ? request : Object.assign(request, { ip })
  } catch {
    return undefined
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

/** The request as the server sees it: path and query, headers, and the address when known. */
function upgradeRequestOf(url: string, headers: Headers, ip: unknown): UpgradeRequest {
  const request: UpgradeRequest = { url: pathAndQuery(url), headers }
  if (typeof ip === 'string' && ip !== '') request.remoteAddress = ip
  return request
}

function pathAndQuery(url: string): string {
  try {
    const parsed = new URL(url, 'http://localhost')
    return parsed.pathname + parsed.search
  } catch {
    return url
  }
}

function pathnameOf(url: string): string {
  try {
    return new URL(url, 'http://localhost').pathname
  } catch {
    return ''
  }
}
