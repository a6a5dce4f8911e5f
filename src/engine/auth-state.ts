/**
 * Authentication of one connection as a state machine: the whole of it is the table below, and
 * this module is the only one that changes `connection.auth` (test/unit/purity.test.ts checks).
 *
 * ```
 *  pending ──credentials──▶ authenticating ──verified──▶ authenticated ──token expires──▶ expired
 *     └──────────────────verified──────────────────────▶  ▲                                  │
 *                                                          └─────────────verified─────────────┘
 * ```
 * Credentials arriving in `authenticating`, `authenticated` or `expired` leave the phase as it is.
 *
 * - `pending`: no credentials yet. Messages are buffered (bounded) until `auth_success`.
 * - `authenticating`: credentials are being verified (an `authenticate` effect is out).
 * - `authenticated`: messages are handled. Credentials sent again refresh the principal while
 *   messages keep being handled.
 * - `expired`: the principal's token expired; messages are buffered until fresh credentials
 *   verify. Its subscriptions stay, so echoes keep arriving meanwhile.
 *
 * `pending`, `authenticating` and `expired` have a deadline (`limits.authTimeoutMs`): past it the
 * connection is refused and closed, and the deadline is cleared so that happens once.
 * A verification that fails closes the connection; it changes no state.
 */
export type AuthPhase = 'pending' | 'authenticating' | 'authenticated' | 'expired'

export type AuthState =
  | { readonly phase: 'authenticated' }
  | {
      readonly phase: 'pending' | 'authenticating' | 'expired'
      /** ms; undefined once it passed (the close is requested). */
      readonly deadline: number | undefined
    }

/** What moves a connection between phases. */
export type AuthEvent = 'credentials' | 'verified' | 'token-expired'

/** The transition table: the phase each event leads to, from each phase. Anything else is a bug. */
const NEXT: Readonly<Record<AuthPhase, Readonly<Partial<Record<AuthEvent, AuthPhase>>>>> = {
  pending: { credentials: 'authenticating', verified: 'authenticated' },
  authenticating: { credentials: 'authenticating', verified: 'authenticated' },
  authenticated: { credentials: 'authenticated', verified: 'authenticated', 'token-expired': 'expired' },
  expired: { credentials: 'expired', verified: 'authenticated' },
}

/** A connection, as far as authentication goes. */
interface HoldsAuth {
  auth: AuthState
}

const AUTHENTICATED: AuthState = Object.freeze({ phase: 'authenticated' })

/**
 * The state a connection opens in: authenticated when the door (or anonymous mode) gave it a
 * principal, authenticating when it brought credentials on the upgrade, pending otherwise.
 */
export function openingAuth(
  start: 'authenticated' | 'authenticating' | 'pending',
  now: number,
  timeoutMs: number,
): AuthState {
  return start === 'authenticated' ? AUTHENTICATED : { phase: start, deadline: now + timeoutMs }
}

/**
 * Applies `event`. Leaving for a phase with a deadline starts one, `timeoutMs` from `now`; staying
 * in such a phase keeps the running one (a second `auth` does not extend the window).
 */
export function authTransition(
  connection: HoldsAuth,
  event: AuthEvent,
  now: number,
  timeoutMs: number,
): void {
  const from = connection.auth
  const phase = NEXT[from.phase][event]
  if (phase === undefined) throw new Error(`Authentication: no transition from ${from.phase} on ${event}`)
  if (phase === 'authenticated') {
    connection.auth = AUTHENTICATED
  } else if (phase !== from.phase) {
    connection.auth = { phase, deadline: 'deadline' in from ? from.deadline : now + timeoutMs }
  }
}

/** The deadline passed and the close is requested: it must not fire again before the close. */
export function authDeadlinePassed(connection: HoldsAuth): void {
  const auth = connection.auth
  if (auth.phase !== 'authenticated') connection.auth = { phase: auth.phase, deadline: undefined }
}

/** The gate of every message but `ping`, `auth` and `connect`: handled now, or buffered. */
export function isAuthenticated(connection: HoldsAuth): boolean {
  return connection.auth.phase === 'authenticated'
}
