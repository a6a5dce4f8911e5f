import { readsOnlyCredentials } from '../auth/authenticator.js'
import { credentialsFromRequest } from '../auth/credentials.js'
import { headerValue, type VerifyCredentialsHook } from '../auth/hooks.js'
import type { ConnectionInfo, Principal } from '../engine/types.js'
import { ipGroupKey } from './ip-address.js'
import { Outbound, type OutboundLimits } from './outbound.js'
import type { ConnectionHandle, SyncSocket, UpgradeRequest } from './transport.js'

/** What the runtime keeps per open socket (the engine keeps the protocol state). */
export class ServerConnection {
  readonly outbound: Outbound
  /** Last sign of life (a frame or a protocol pong), ms. */
  lastSeen: number
  /** When the last protocol ping went out, ms. */
  lastPingAt: number | undefined
  /** Consecutive heartbeat sweeps with no sign of life since the previous ping. */
  missedPings = 0
  /** Set once authenticated, for `/health` user counts. */
  userId: string | undefined
  /** App data from the door or the host (events, hooks); the engine has its own reference. */
  context: unknown
  /**
   * Frames that arrived while the `authenticate` hook decides (a transport that could not ask
   * `sync.upgrade`): replayed once the engine opens the connection. Undefined once open.
   */
  held: (string | Uint8Array)[] | undefined
  heldBytes = 0
  closed = false
  /** The upgrade request until the connection opens; then only what is read later (`retainedRequest`). */
  request: UpgradeRequest | undefined

  constructor(
    readonly id: string,
    readonly socket: SyncSocket,
    readonly ip: string | undefined,
    request: UpgradeRequest,
    limits: OutboundLimits,
    now: number,
  ) {
    this.outbound = new Outbound(socket, limits)
    this.request = request
    this.lastSeen = now
    this.lastPingAt = undefined
    this.context = undefined
    this.held = undefined
  }

  /**
   * One heartbeat sweep: false when the peer let two pings in a row go unanswered. Counted in
   * sweeps rather than wall time, so an event-loop stall (GC, CPU) never disconnects everyone:
   * a pong that arrived during the stall is read before the sweep after next.
   */
  heartbeat(now: number): boolean {
    if (this.lastPingAt !== undefined) {
      this.missedPings = this.lastSeen >= this.lastPingAt ? 0 : this.missedPings + 1
      if (this.missedPings >= 2) return false
    }
    this.lastPingAt = now
    return true
  }

  /** Closes the transport, never throwing (custom sockets might). */
  closeSocket(code: number, reason: string): void {
    try {
      this.socket.close(code, reason)
    } catch {
      // Already closed: nothing to do.
    }
  }

  /** Dead peers are aborted where the transport can, so no close handshake is awaited. */
  abort(code: number, reason: string): void {
    if (!this.socket.terminate) return this.closeSocket(code, reason)
    try {
      this.socket.terminate()
    } catch {
      this.closeSocket(code, reason)
    }
  }
}

/**
 * Connections per client, for the per-IP limit: per IPv4 address, per /64 network for IPv6 (see
 * `ipGroupKey`). Entries at zero are removed.
 */
export class IpCounter {
  readonly #counts = new Map<string, number>()

  count(ip: string): number {
    return this.#counts.get(ipGroupKey(ip)) ?? 0
  }

  add(ip: string): void {
    const key = ipGroupKey(ip)
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1)
  }

  remove(ip: string): void {
    const key = ipGroupKey(ip)
    const next = (this.#counts.get(key) ?? 0) - 1
    if (next > 0) this.#counts.set(key, next)
    else this.#counts.delete(key)
  }
}

/**
 * What an open connection keeps of its upgrade request: only `verifyCredentials` reads it later
 * (an `auth` message without credentials falls back to the request's). So nothing without that
 * hook, the credential-bearing parts for one that reads only those (`credentialsFromRequest`),
 * and all of it for any other. Headers are most of a connection's memory beyond its socket.
 */
export function retainedRequest(
  hook: VerifyCredentialsHook | undefined,
  request: UpgradeRequest,
): UpgradeRequest | undefined {
  if (!hook) return undefined
  if (!readsOnlyCredentials(hook)) return request
  const kept: UpgradeRequest = {}
  const headers: Record<string, string> = {}
  const authorization = headerValue(request.headers, 'authorization')
  if (authorization !== undefined) headers.authorization = authorization
  const apiKey = headerValue(request.headers, 'x-api-key')
  if (apiKey !== undefined) headers['x-api-key'] = apiKey
  if (authorization !== undefined || apiKey !== undefined) kept.headers = headers
  if (request.url?.includes('token=')) kept.url = request.url
  return kept.headers || kept.url !== undefined ? kept : undefined
}

/** What a `SocketHandle` reports to, shared by every connection of a runtime. */
export interface SocketEvents {
  receive(connection: ServerConnection, frame: string | Uint8Array): void
  closed(connection: ServerConnection): void
  drained(connection: ServerConnection): void
}

/**
 * The `ConnectionHandle` a transport reports one socket's events through: its methods live on
 * the prototype, since four closures per connection cost more heap than the rest of the handle.
 */
export class SocketHandle implements ConnectionHandle {
  constructor(
    readonly connection: ServerConnection,
    readonly events: SocketEvents,
  ) {}

  get id(): string {
    return this.connection.id
  }

  receive(frame: string | Uint8Array): void {
    this.events.receive(this.connection, frame)
  }

  closed(): void {
    this.events.closed(this.connection)
  }

  pong(): void {
    this.connection.lastSeen = Date.now()
  }

  drained(): void {
    this.events.drained(this.connection)
  }
}

/** Handed to sockets refused at accept: every report is ignored. */
export const REFUSED: ConnectionHandle = Object.freeze({
  id: '',
  receive() {},
  closed() {},
  pong() {},
  drained() {},
})

/**
 * What the engine is told at open: the principal and context from the door or the host, else the
 * credentials on the upgrade (`Authorization: Bearer`, `?token=`), verified at open.
 */
export function connectionInfo(
  ip: string | undefined,
  request: UpgradeRequest,
  canVerify: boolean,
  admitted: { principal?: Principal; context?: unknown; verifiedCredentials?: boolean } = {},
): ConnectionInfo {
  const info: ConnectionInfo = ip !== undefined ? { ip } : {}
  if (admitted.context !== undefined) info.context = admitted.context
  if (admitted.principal) {
    info.principal = admitted.principal
    if (admitted.verifiedCredentials) info.verifiedCredentials = true
    return info
  }
  if (!canVerify) return info
  const credentials = credentialsFromRequest(request)
  if (credentials.token || credentials.apiKey) info.credentials = credentials
  return info
}

/**
 * Connections pinged in one go before a heartbeat sweep yields to I/O. Every ping is a system call:
 * 18,000 sockets swept at once held the event loop for over a second.
 */
export const HEARTBEAT_CHUNK = 64

/**
 * A sweep of more chunks than this is spread over a quarter of the heartbeat interval instead of
 * running back to back: every ping draws a pong, and 18,000 of them within a few hundred
 * milliseconds stalled the server and its clients alike (the pings clients timed meanwhile waited).
 */
export const HEARTBEAT_BURST_CHUNKS = 4

/** The pause between two chunks of a sweep of `connections` (0: the next I/O turn). */
export function heartbeatGapMs(connections: number, intervalMs: number): number {
  const chunks = Math.ceil(connections / HEARTBEAT_CHUNK)
  if (chunks <= HEARTBEAT_BURST_CHUNKS) return 0
  return Math.floor(intervalMs / 4 / chunks)
}

/**
 * Protocol-level liveness (docs/protocol.md §4.5, D15): ping every interval; a socket that showed no
 * sign of life (pong or frame) after two consecutive pings is aborted. Sockets whose transport
 * has no ping are left alone: they could never answer. Application pings are never required.
 *
 * A sweep covers the connections open when it starts, `HEARTBEAT_CHUNK` at a time: the runtime
 * calls `step` again after pending I/O (spaced by `heartbeatGapMs` in a large sweep) until it
 * answers false, so frames keep flowing meanwhile.
 */
export class HeartbeatSweep {
  #pending: ServerConnection[] = []
  #next = 0

  /** True while a sweep has connections left. */
  get running(): boolean {
    return this.#next < this.#pending.length
  }

  /** How many connections the current sweep covers. */
  get size(): number {
    return this.#pending.length
  }

  start(connections: Iterable<ServerConnection>): void {
    this.#pending = [...connections]
    this.#next = 0
  }

  /** Pings the next chunk; answers whether connections are left for another step. */
  step(now: number, dropped: (connection: ServerConnection) => void): boolean {
    const end = Math.min(this.#pending.length, this.#next + HEARTBEAT_CHUNK)
    for (; this.#next < end; this.#next++) {
      const connection = this.#pending[this.#next] as ServerConnection
      const { socket } = connection
      if (connection.closed || !socket.ping) continue
      if (!connection.heartbeat(now)) {
        connection.abort(1001, 'Heartbeat timeout')
        dropped(connection)
        continue
      }
      try {
        socket.ping()
      } catch {
        // Closing already; the transport reports it.
      }
    }
    if (this.running) return true
    this.#pending = []
    this.#next = 0
    return false
  }
}
