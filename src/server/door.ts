import { credentialsFromRequest } from '../auth/credentials.js'
import {
  type AuthenticateHook,
  type AuthenticateResult,
  authenticateRequest,
  headerValue,
  type VerifyCredentialsHook,
} from '../auth/hooks.js'
import type { Principal } from '../engine/types.js'
import type { UpgradeRefusalCode, UpgradeRequest } from './transport.js'

/**
 * The door: the checks a connection passes before the engine sees it (origin, the app's
 * `authenticate` hook, credentials on the upgrade request). The caps are the runtime's: they
 * depend on what is open. Everything here may do I/O; the engine only gets the outcome.
 */

/** A connection let in, and who it is when that is known already. */
export interface Admitted {
  admitted: true
  principal?: Principal
  context?: unknown
  /** The principal came from token / API-key credentials on the upgrade request. */
  verifiedCredentials?: boolean
}
export interface Refused {
  admitted: false
  code: UpgradeRefusalCode
}
export type DoorDecision = Admitted | Refused

export interface DoorOptions {
  authenticate: AuthenticateHook | undefined
  verifyCredentials: VerifyCredentialsHook | undefined
  /** A hook that has not answered by then refuses the connection (`AUTH_UNAVAILABLE`). */
  timeoutMs: number
}

/** How a failure at the door is reported (logged once by the runtime). */
export type DoorErrorSink = (error: unknown, what: 'authenticate' | 'verify-credentials') => void

const ADMITTED: Admitted = Object.freeze({ admitted: true })
const refused = (code: UpgradeRefusalCode): Refused => ({ admitted: false, code })

/**
 * Runs the app's hook, then (with `checkCredentials`, as `sync.upgrade` does) verifies a token or
 * API key on the request, so bad credentials are refused before the handshake. Without it the
 * engine verifies them after open, as it always has.
 */
export async function passDoor(
  options: DoorOptions,
  request: UpgradeRequest,
  ip: string | undefined,
  checkCredentials: boolean,
  onError: DoorErrorSink,
): Promise<DoorDecision> {
  let context: unknown
  if (options.authenticate) {
    let result: AuthenticateResult
    try {
      result = await withTimeout(
        options.authenticate(authenticateRequest(request, ip)),
        options.timeoutMs,
        'authenticate',
      )
    } catch (error) {
      onError(error, 'authenticate')
      return refused('AUTH_UNAVAILABLE')
    }
    if (result === null) return refused('AUTH_FAILED')
    if (result !== undefined) {
      const principal = 'userId' in result ? result : result.principal
      if (!('userId' in result)) context = result.context
      if (principal !== undefined) {
        if (!isPrincipal(principal)) {
          onError(new TypeError('auth.authenticate returned an invalid principal'), 'authenticate')
          return refused('AUTH_UNAVAILABLE')
        }
        return context === undefined ? { admitted: true, principal } : { admitted: true, principal, context }
      }
    }
  }
  const admitted: Admitted = context === undefined ? ADMITTED : { admitted: true, context }
  if (!checkCredentials || !options.verifyCredentials) return admitted
  const credentials = credentialsFromRequest(request)
  if (!credentials.token && !credentials.apiKey) return admitted
  try {
    const principal = await withTimeout(
      options.verifyCredentials(credentials, request),
      options.timeoutMs,
      'verifyCredentials',
    )
    if (!principal) return refused('AUTH_FAILED')
    return { ...admitted, admitted: true, principal, verifiedCredentials: true }
  } catch (error) {
    onError(error, 'verify-credentials')
    return refused('AUTH_UNAVAILABLE')
  }
}

/** The `Origin` check, or undefined when every origin is allowed. Throws on a malformed entry. */
export function originPolicy(
  allowed: readonly string[] | ((origin: string) => boolean) | undefined,
): ((request: UpgradeRequest) => boolean) | undefined {
  if (allowed === undefined) return undefined
  let matches: (origin: string) => boolean
  if (typeof allowed === 'function') {
    matches = (origin) => {
      try {
        return allowed(origin) === true
      } catch {
        return false
      }
    }
  } else {
    if (!Array.isArray(allowed))
      throw new TypeError('Invalid option allowedOrigins: expected a list or a function')
    const patterns = allowed.map(parseOriginPattern)
    if (patterns.some((p) => p === '*')) return undefined
    matches = (origin) => patterns.some((pattern) => pattern !== '*' && pattern(origin.toLowerCase()))
  }
  // Browsers always send `Origin` on a WebSocket upgrade; other clients may not, and are not
  // the cross-site threat this guards against.
  return (request) => {
    const origin = headerValue(request.headers, 'origin')
    return origin === undefined || matches(origin.trim())
  }
}

/** `*`, an exact origin, or `scheme://*.domain[:port]` for its subdomains. */
function parseOriginPattern(entry: string): '*' | ((origin: string) => boolean) {
  const value = typeof entry === 'string' ? entry.trim().toLowerCase() : ''
  if (value === '*') return '*'
  const wildcard = /^([a-z][a-z0-9+.-]*:\/\/)\*\.([^/*]+)$/.exec(value)
  if (wildcard) {
    const scheme = wildcard[1] ?? ''
    const origin = canonicalOrigin(`${scheme}${wildcard[2]}`, entry)
    const suffix = `.${origin.slice(scheme.length)}`
    return (candidate) =>
      candidate.startsWith(scheme) &&
      candidate.endsWith(suffix) &&
      candidate.length > scheme.length + suffix.length &&
      !candidate.slice(scheme.length, -suffix.length).includes('/')
  }
  const origin = canonicalOrigin(value, entry)
  return (candidate) => candidate === origin
}

function canonicalOrigin(value: string, entry: string): string {
  let origin: string | undefined
  try {
    origin = new URL(value).origin
  } catch {
    origin = undefined
  }
  if (!origin || origin === 'null' || origin !== value.replace(/\/$/, '')) {
    throw new RangeError(
      `Invalid option allowedOrigins: ${JSON.stringify(entry)} (expected "*", an origin such as ` +
        '"https://app.example.com", or "https://*.example.com")',
    )
  }
  return origin
}

function isPrincipal(value: unknown): value is Principal {
  if (typeof value !== 'object' || value === null) return false
  const { userId, permissions } = value as Partial<Principal>
  return (
    typeof userId === 'string' &&
    userId.length > 0 &&
    typeof permissions === 'object' &&
    permissions !== null &&
    Array.isArray(permissions.canRead) &&
    Array.isArray(permissions.canWrite) &&
    typeof permissions.isAdmin === 'boolean'
  )
}

function withTimeout<T>(value: T | Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)
  })
  return Promise.race([Promise.resolve(value), timeout]).finally(() => clearTimeout(timer))
}

/** The close code and reason of a refusal after the handshake (custom transports). */
export function closeCodeOf(code: UpgradeRefusalCode): [number, string] {
  switch (code) {
    case 'SERVER_SHUTTING_DOWN':
      return [1001, 'Server shutdown']
    case 'AUTH_UNAVAILABLE':
      return [1011, 'Authentication unavailable']
    case 'AUTH_FAILED':
      return [1008, 'Authentication failed']
    case 'ORIGIN_NOT_ALLOWED':
      return [1008, 'Origin not allowed']
    case 'TOO_MANY_CONNECTIONS':
      return [1008, 'Too many connections from your IP']
    case 'SERVER_AT_CAPACITY':
      return [1008, 'Server at maximum capacity']
  }
}
