import type { Credentials } from '../engine/types.js'
import type { UpgradeRequest } from '../server/options.js'

/** Case-insensitive header read from a `Headers` or a Node-style record; the first value wins. */
export function headerValue(headers: UpgradeRequest['headers'], name: string): string | undefined {
  if (!headers) return undefined
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined
  const wanted = name.toLowerCase()
  for (const [key, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (key.toLowerCase() !== wanted) continue
    return Array.isArray(value) ? value[0] : value
  }
  return undefined
}

/**
 * Credentials carried by the WebSocket upgrade request, for clients that cannot send them in an
 * `auth` message: `Authorization: Bearer <token>` (scheme case-insensitive, RFC 7235), then
 * `?token=` (browsers cannot set headers on a WebSocket), and `X-API-Key: <key>`. API keys are
 * not read from the query string because URLs end up in proxy and access logs. Cookies are
 * ignored on purpose: every site can open a WebSocket with the user's cookies attached.
 */
export function credentialsFromRequest(request: UpgradeRequest): Credentials {
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
