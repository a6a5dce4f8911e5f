import type { UpgradeRequest } from './options.js'

/** Case-insensitive header lookup over `Headers` or a Node-style header record. */
export function headerValue(headers: UpgradeRequest['headers'], name: string): string | undefined {
  if (!headers) return undefined
  if (typeof Headers !== 'undefined' && headers instanceof Headers) return headers.get(name) ?? undefined
  const record = headers as Record<string, string | string[] | undefined>
  const lower = name.toLowerCase()
  let value = Object.hasOwn(record, lower) ? record[lower] : undefined
  if (value === undefined) {
    for (const key of Object.keys(record)) {
      if (key.toLowerCase() === lower) {
        value = record[key]
        break
      }
    }
  }
  return Array.isArray(value) ? value.join(', ') : value
}

/**
 * The client address (PROTOCOL.md §2.1). Proxy headers are spoofable, so they are read only when
 * the operator says a trusted proxy sets them. IPv4-mapped IPv6 is unmapped so that one client
 * counts once against the per-IP limit whichever socket family accepted it.
 */
export function resolveClientIp(
  request: UpgradeRequest | undefined,
  trustProxy: boolean,
): string | undefined {
  if (trustProxy) {
    const forwarded = headerValue(request?.headers, 'x-forwarded-for')?.split(',')[0]?.trim()
    if (forwarded) return normalizeIp(forwarded)
    const real = headerValue(request?.headers, 'x-real-ip')?.trim()
    if (real) return normalizeIp(real)
  }
  return request?.remoteAddress ? normalizeIp(request.remoteAddress) : undefined
}

function normalizeIp(ip: string): string {
  const bounded = ip.length > 64 ? ip.slice(0, 64) : ip
  return bounded.startsWith('::ffff:') && bounded.includes('.') ? bounded.slice(7) : bounded
}
