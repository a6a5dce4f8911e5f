import { IpCounter } from './connection.js'
import type { UpgradeRefusalCode } from './transport.js'
import type { RuntimeLimits } from './types.js'

/** A connection slot held by `upgrade` for the socket that is about to open. */
export interface Reservation {
  readonly ip: string | undefined
  /** ms; Infinity while the door check runs (it has its own time limit). */
  expiresAt: number
}

/** What `upgrade` handed out, looked up when the admission comes back to `handleConnection`. */
export interface Ticket {
  reservation: Reservation | undefined
  verifiedCredentials: boolean
}

/**
 * The bookkeeping behind the connection caps: open connections per client address, and the
 * slots `upgrade` holds for sockets about to open (counted like open ones, so a burst of
 * handshakes cannot pass `maxConnections`), handed out as tickets keyed by the admission.
 */
export class ConnectionSlots {
  readonly #perIp = new IpCounter()
  readonly #reservations = new Set<Reservation>()
  readonly #tickets = new WeakMap<object, Ticket>()

  constructor(private readonly limits: Pick<RuntimeLimits, 'maxConnections' | 'maxConnectionsPerIp'>) {}

  /** The caps for a new connection from `ip`, with `open` connections already open. */
  refusal(ip: string | undefined, open: number): UpgradeRefusalCode | undefined {
    if (ip !== undefined && this.#perIp.count(ip) >= this.limits.maxConnectionsPerIp) {
      return 'TOO_MANY_CONNECTIONS'
    }
    if (open + this.#reservations.size >= this.limits.maxConnections) return 'SERVER_AT_CAPACITY'
    return undefined
  }

  /**
   * A socket whose slot `upgrade` held: counted already, but the per-IP cap is checked now when
   * the upgrade request did not carry the address the socket has (crossws's Node adapter).
   */
  admittedRefusal(
    reservation: Reservation | undefined,
    ip: string | undefined,
  ): UpgradeRefusalCode | undefined {
    const unseen = reservation?.ip === undefined && ip !== undefined
    if (unseen && this.#perIp.count(ip) >= this.limits.maxConnectionsPerIp) return 'TOO_MANY_CONNECTIONS'
    return undefined
  }

  reserve(ip: string | undefined): Reservation {
    const reservation: Reservation = { ip, expiresAt: Number.POSITIVE_INFINITY }
    this.#reservations.add(reservation)
    if (ip !== undefined) this.#perIp.add(ip)
    return reservation
  }

  release(reservation: Reservation): void {
    if (!this.#reservations.delete(reservation)) return
    if (reservation.ip !== undefined) this.#perIp.remove(reservation.ip)
  }

  /** Slots held for sockets that never opened (a client that went away mid-handshake). */
  expire(now: number): void {
    for (const reservation of this.#reservations) {
      if (reservation.expiresAt <= now) this.release(reservation)
    }
  }

  issue(admission: object, ticket: Ticket): void {
    this.#tickets.set(admission, ticket)
  }

  /**
   * The ticket of an admission coming back with its socket, its slot released for the
   * connection to take; `reserved` says whether the slot was still held (not expired).
   */
  claim(admission: object | undefined): { ticket: Ticket | undefined; reserved: boolean } {
    const ticket = admission ? this.#tickets.get(admission) : undefined
    const reservation = ticket?.reservation
    const reserved = reservation !== undefined && this.#reservations.has(reservation)
    if (reservation) this.release(reservation)
    return { ticket, reserved }
  }

  opened(ip: string | undefined): void {
    if (ip !== undefined) this.#perIp.add(ip)
  }

  closed(ip: string | undefined): void {
    if (ip !== undefined) this.#perIp.remove(ip)
  }
}
