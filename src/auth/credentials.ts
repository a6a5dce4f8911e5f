import type { Credentials } from '../engine/types.js'
import { headerValue, type RequestLike } from './hooks.js'

/**
 * Credentials carried by the WebSocket upgrade request, for clients that cannot send them in an
 * `auth` message: `Authorization: Bearer <token>` (scheme case-insensitive, RFC 7235), then
 * `?token=` (browsers cannot set headers on a WebSocket), and `X-API-Key: <key>`. API keys are
 * not read from the query string because URLs end up in proxy and access logs. Cookies are
 * ignored on purpose: every site can open a WebSocket with the user's cookies attached (cookie
 * sessions belong in the `authenticate` hook, with `allowedOrigins`).
 */
export function credentialsFromRequest(request: RequestLike): Credentials {
  const credentials: Credentials = {}
  const authorization = headerValue(request.headers, 'authorization')?.trim()
  const bearer = authorization?.match(/^bearer\s+(\S+)$/i)?.[1]
  const token = bearer ?? queryToken(request.url)
  if (token) credentials.token = token
  const apiKey = headerValue(request.headers, 'x-api-key')?.trim()
  if (apiKey) credentials.apiKey = apiKey
  return credentials
}

function queryToken(url: string | undefined): string | undefined {
  if (!url) return undefined
  try {
    return new URL(url, 'http://localhost').searchParams.get('token') || undefined
  } catch {
    return undefined
  }
}
