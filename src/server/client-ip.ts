import {
  formatIp,
  type IpAddress,
  type IpRange,
  inRange,
  parseForwardedAddress,
  parseIp,
  parseRange,
} from './ip-address.js'
import type { TrustProxy, UpgradeRequest } from './options.js'

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
 * Whether the hop at `distance` (0 = the TCP peer, 1 = the rightmost `X-Forwarded-For` entry, ...)
 * is a proxy we trust to have appended the address before it. `address` is undefined when the
 * transport gave no peer address.
 */
export type ProxyTrust = (address: IpAddress | undefined, distance: number) => boolean

export const TRUST_NO_PROXY: ProxyTrust = () => false

/** Named ranges, as Express's `trust proxy` has them. */
const PRESETS: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
}

export const TRUST_PROXY_EXPECTED =
  'expected true, false, a number of proxy hops, or a comma-separated list of IP addresses, CIDR ranges, ' +
  Object.keys(PRESETS).join(', ')

/** A `trustProxy` value that cannot be used; the message names the bad part. */
export class TrustProxyError extends Error {
  override readonly name = 'TrustProxyError'
}

/**
 * `trustProxy` as a predicate. `true` is one hop, `false` and `0` none, a number N trusts the N
 * hops nearest to the server, a list trusts exactly the proxies whose address is in it.
 */
export function compileTrustProxy(option: TrustProxy | undefined): ProxyTrust {
  if (option === undefined || option === false) return TRUST_NO_PROXY
  if (option === true) return hops(1)
  if (typeof option === 'number') {
    if (!Number.isSafeInteger(option) || option < 0) {
      throw new TrustProxyError(`${String(option)} is not a whole number of hops`)
    }
    return option === 0 ? TRUST_NO_PROXY : hops(option)
  }
  if (!Array.isArray(option)) {
    const hint = typeof option === 'string' ? ' (pass a list: ["10.0.0.1"])' : ''
    throw new TrustProxyError(`${kindOf(option)} is not a trust setting${hint}`)
  }
  const ranges: IpRange[] = []
  for (const entry of option as readonly unknown[]) {
    if (typeof entry !== 'string') throw new TrustProxyError(`${kindOf(entry)} is not an address or range`)
    const text = entry.trim()
    if (text === '') throw new TrustProxyError('an entry is empty')
    for (const item of PRESETS[text] ?? [text]) {
      const range = parseRange(item)
      if ('error' in range) throw new TrustProxyError(range.error)
      ranges.push(range)
    }
  }
  if (ranges.length === 0) return TRUST_NO_PROXY
  return (address) => address !== undefined && ranges.some((range) => inRange(address, range))
}

function kindOf(value: unknown): string {
  const type = value === null ? 'null' : typeof value
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`
}

function hops(count: number): ProxyTrust {
  return (_address, distance) => distance < count
}

/**
 * The client address, for the per-IP limit and events, found as Express's `trust proxy` finds it.
 * Proxy headers are spoofable, and a correct proxy appends the address it saw on the right, so the chain is walked
 * from the server outwards: the TCP peer, then `X-Forwarded-For` from right to left. The client
 * is the first hop that is not a trusted proxy (or the last one, when all are trusted).
 *
 * - `X-Real-IP` stands in for `X-Forwarded-For` only when that header is absent: a proxy writes
 *   one of them and passes the other on from the client untouched, and every common proxy
 *   writes `X-Forwarded-For`.
 * - An entry that is not an address ends the walk at the trusted hop that wrote it, so junk is
 *   never a client of its own, and all junk behind one proxy shares that proxy's per-IP limit.
 * - IPv4-mapped IPv6 is unmapped, so one client counts once whichever socket family accepted it.
 */
export function resolveClientIp(request: UpgradeRequest | undefined, trust: ProxyTrust): string | undefined {
  const peerText = request?.remoteAddress
  const peer = peerText ? parseIp(peerText) : undefined
  // A peer address that is not an IP (a custom transport's id) is kept as the transport gave it.
  let client = peer ? formatIp(peer) : peerText ? peerText.slice(0, 64) : undefined
  if (trust === TRUST_NO_PROXY || !trust(peer, 0)) return client
  const forwarded = headerValue(request?.headers, 'x-forwarded-for')
  const chain = forwarded !== undefined ? forwarded.split(',') : [headerValue(request?.headers, 'x-real-ip')]
  for (let i = chain.length - 1, distance = 1; i >= 0; i--, distance++) {
    // A missing header leaves the peer as the client; an empty entry is junk like any non-address.
    const entry = chain[i]?.trim()
    const address = entry ? parseForwardedAddress(entry) : undefined
    if (!address) return client
    client = formatIp(address)
    if (!trust(address, distance)) return client
  }
  return client
}
