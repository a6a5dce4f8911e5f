import type { Credentials, Principal } from '../engine/types.js'

/** Request headers as a transport hands them over: Web `Headers` or a Node-style record. */
export type HeadersLike = Headers | Record<string, string | string[] | undefined>

/** The parts of an HTTP request that credentials can be read from. */
export interface RequestLike {
  headers?: HeadersLike
  /** Path and query, e.g. `/ws?token=...`. */
  url?: string
}

/** What the `authenticate` hook sees of a WebSocket upgrade request. */
export interface AuthenticateRequest {
  /** The request headers (`Headers`: names are case-insensitive). */
  readonly headers: Headers
  /** Cookies of the `Cookie` header, by name (the first of duplicate names wins). */
  readonly cookies: Readonly<Record<string, string>>
  /** Path and query of the upgrade request, e.g. `/ws?room=1`. */
  readonly url: string
  /** The client address (after trusted-proxy resolution), when the transport knows it. */
  readonly ip: string | undefined
}

/**
 * What `authenticate` answers:
 * - a `Principal`: the connection is admitted as that user;
 * - `{ principal, context }`: the same, with an app `context` that reaches `authorize`, `validate`,
 *   `onLoadDocument` and the connection's events; without `principal`, only the context is set
 *   and the built-in check decides who the connection is (as for `undefined`);
 * - `null`: refused (HTTP 401 before the handshake, close 1008 after it);
 * - `undefined`: no opinion; the built-in check decides (JWT / API key on the upgrade request or
 *   in the client's first `auth` message).
 */
export type AuthenticateResult<Context = unknown> =
  | Principal
  | { principal?: Principal; context?: Context }
  | null
  | undefined

/**
 * The app's identity check at the door: runs once per connection, before the WebSocket handshake
 * where the transport allows it (`sync.upgrade`). It sees headers, cookies and the URL, so cookie
 * sessions work. A hook that throws refuses the connection (HTTP 503, close 1011) and is logged.
 */
export type AuthenticateHook<Context = unknown> = (
  request: AuthenticateRequest,
) => AuthenticateResult<Context> | Promise<AuthenticateResult<Context>>

/**
 * Verifies credentials a client presents in an `auth` message or on the upgrade request (token,
 * API key): a principal, or null to refuse (`auth_error`, close 1008). The built-in one is
 * `createAuthenticator` (JWT and API keys); set `auth.verifyCredentials` to replace it.
 */
export type VerifyCredentialsHook = (
  credentials: Credentials,
  request: RequestLike,
) => Promise<Principal | null>

/** Case-insensitive header read from `Headers` or a Node-style record; the first value wins. */
export function headerValue(headers: HeadersLike | undefined, name: string): string | undefined {
  if (!headers) return undefined
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined
  const wanted = name.toLowerCase()
  for (const [key, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (key.toLowerCase() !== wanted) continue
    return Array.isArray(value) ? value[0] : value
  }
  return undefined
}

/** Headers of any shape as Web `Headers` (values the Fetch API refuses are skipped). */
export function toHeaders(headers: HeadersLike | undefined): Headers {
  if (headers && typeof (headers as Headers).get === 'function') return headers as Headers
  const result = new Headers()
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined || name.startsWith(':')) continue
    for (const item of Array.isArray(value) ? value : [value]) {
      try {
        result.append(name, item)
      } catch {
        // A value the Fetch API refuses (control characters): the hook never sees it.
      }
    }
  }
  return result
}

const MAX_COOKIES = 64

/**
 * `Cookie: a=1; b=2` as `{a: '1', b: '2'}`. Values are percent-decoded when they can be; at most
 * 64 cookies are read, and names are own properties of a null-prototype object.
 */
export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = Object.create(null)
  if (!header) return cookies
  let count = 0
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq <= 0) continue
    const name = part.slice(0, eq).trim()
    if (!name || name in cookies) continue
    let value = part.slice(eq + 1).trim()
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1)
    try {
      value = decodeURIComponent(value)
    } catch {
      // Not percent-encoded: kept as sent.
    }
    cookies[name] = value
    if (++count >= MAX_COOKIES) break
  }
  return cookies
}

/** The request as the hook sees it. */
export function authenticateRequest(request: RequestLike, ip: string | undefined): AuthenticateRequest {
  const headers = toHeaders(request.headers)
  return {
    headers,
    cookies: parseCookies(headers.get('cookie') ?? undefined),
    url: request.url ?? '/',
    ip,
  }
}
