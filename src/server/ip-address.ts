/**
 * IP addresses for the per-IP limit and `trustProxy`: strict parsing (a header value that is not
 * an address must never pass for one), canonical text, CIDR ranges. No runtime-specific import,
 * so it works on every transport.
 */

/** IPv4 as 2 sixteen-bit words, IPv6 as 8. IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is stored as IPv4. */
export interface IpAddress {
  readonly version: 4 | 6
  readonly words: readonly number[]
}

export interface IpRange {
  readonly address: IpAddress
  readonly prefix: number
}

/** The longest address text accepted (IPv6 with an embedded IPv4 is 45, plus a zone id). */
const MAX_ADDRESS_LENGTH = 64

const IPV4 =
  /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/
const ZONE_ID = /^[A-Za-z0-9_.-]{1,32}$/

/**
 * A bare IPv4 or IPv6 address (an IPv6 zone id such as `%eth0` is accepted and dropped).
 * Dotted quads with leading zeros are refused: some stacks read them as octal.
 */
export function parseIp(text: string): IpAddress | undefined {
  if (text.length === 0 || text.length > MAX_ADDRESS_LENGTH) return undefined
  const v4 = parseIpv4(text)
  if (v4) return { version: 4, words: v4 }
  const v6 = parseIpv6(text)
  if (!v6) return undefined
  const mapped = v6[5] === 0xffff && v6.slice(0, 5).every((word) => word === 0)
  return mapped ? { version: 4, words: v6.slice(6) } : { version: 6, words: v6 }
}

/**
 * One entry of `X-Forwarded-For` / `X-Real-IP`: an address, optionally with a port as some proxies
 * write it (`203.0.113.7:4711`, `[2001:db8::1]:443`, `[2001:db8::1]`).
 */
export function parseForwardedAddress(text: string): IpAddress | undefined {
  if (text.startsWith('[')) {
    const end = text.indexOf(']')
    const inner = text.slice(1, end)
    // Brackets only ever hold IPv6 text (possibly an IPv4-mapped one).
    if (end === -1 || !inner.includes(':') || !isPortSuffix(text.slice(end + 1))) return undefined
    return parseIp(inner)
  }
  const colon = text.indexOf(':')
  if (colon !== -1 && colon === text.lastIndexOf(':')) {
    // One colon: IPv4 with a port (an IPv6 address has at least two).
    const address = isPortSuffix(text.slice(colon)) ? parseIp(text.slice(0, colon)) : undefined
    return address?.version === 4 ? address : undefined
  }
  return parseIp(text)
}

/** Canonical text: dotted IPv4, RFC 5952 IPv6 (lower case, longest zero run as `::`). */
export function formatIp(address: IpAddress): string {
  const { words } = address
  if (address.version === 4) {
    const [high = 0, low = 0] = words
    return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`
  }
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && words[j] === 0) j++
    if (j - i > bestLength) {
      bestStart = i
      bestLength = j - i
    }
    i = j
  }
  const hex = (from: number, to: number) =>
    words
      .slice(from, to)
      .map((word) => word.toString(16))
      .join(':')
  if (bestStart === -1) return hex(0, 8)
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`
}

/** `10.0.0.0/8`, `fd00::/8`, or a bare address (a range of one). Bits past the prefix are ignored. */
export function parseRange(text: string): IpRange | { error: string } {
  const slash = text.indexOf('/')
  const addressText = slash === -1 ? text : text.slice(0, slash)
  const address = parseIp(addressText)
  if (!address) return { error: `"${text}" is not an IP address or CIDR range` }
  const bits = address.version === 4 ? 32 : 128
  if (slash === -1) return { address, prefix: bits }
  const prefixText = text.slice(slash + 1)
  if (!/^\d{1,3}$/.test(prefixText)) return { error: `"${text}" has an invalid prefix length` }
  let prefix = Number(prefixText)
  // `::ffff:10.0.0.0/104` names IPv4 addresses: its prefix counts from the mapped part.
  if (address.version === 4 && addressText.includes(':')) {
    prefix -= 96
    if (prefix < 0) return { error: `"${text}" has a prefix length under 96 for an IPv4-mapped range` }
  }
  if (prefix > bits) return { error: `"${text}" has a prefix length over ${bits}` }
  return { address, prefix }
}

export function inRange(address: IpAddress, range: IpRange): boolean {
  if (address.version !== range.address.version) return false
  let remaining = range.prefix
  for (let i = 0; remaining > 0; i++, remaining -= 16) {
    const mask = remaining >= 16 ? 0xffff : (0xffff << (16 - remaining)) & 0xffff
    if (((address.words[i] ?? 0) & mask) !== ((range.address.words[i] ?? 0) & mask)) return false
  }
  return true
}

/**
 * The key one client counts under for the per-IP limit: an IPv4 address, or the /64 network of
 * an IPv6 address (one subscriber usually holds a whole /64 and picks addresses from it freely).
 * Text that is not an address (a custom transport's peer id) is its own key.
 */
export function ipGroupKey(ip: string): string {
  const address = parseIp(ip)
  if (address?.version !== 6) return address ? formatIp(address) : ip
  const network = [...address.words.slice(0, 4), 0, 0, 0, 0]
  return `${formatIp({ version: 6, words: network })}/64`
}

function parseIpv4(text: string): number[] | undefined {
  const match = IPV4.exec(text)
  if (!match) return undefined
  const [a, b, c, d] = match.slice(1).map(Number) as [number, number, number, number]
  return [(a << 8) | b, (c << 8) | d]
}

function parseIpv6(input: string): number[] | undefined {
  let text = input
  const percent = text.indexOf('%')
  if (percent !== -1) {
    if (!ZONE_ID.test(text.slice(percent + 1))) return undefined
    text = text.slice(0, percent)
  }
  // An embedded IPv4 (`::ffff:1.2.3.4`) stands for the last two groups.
  const lastColon = text.lastIndexOf(':')
  if (lastColon === -1) return undefined
  let tail: number[] = []
  if (text.includes('.', lastColon)) {
    const v4 = parseIpv4(text.slice(lastColon + 1))
    if (!v4) return undefined
    tail = v4
    text = text.slice(0, lastColon + 1)
    // `1:2:3:4:5:6:1.2.3.4` leaves a trailing single colon; `::1.2.3.4` leaves `::`.
    if (!text.endsWith('::')) text = text.slice(0, -1)
  }
  const halves = text.split('::')
  if (halves.length > 2) return undefined
  const head = groups(halves[0] ?? '')
  const rest = halves.length === 2 ? groups(halves[1] ?? '') : []
  if (!head || !rest) return undefined
  const explicit = head.length + rest.length + tail.length
  if (halves.length === 1) return explicit === 8 ? [...head, ...tail] : undefined
  if (explicit > 7) return undefined
  return [...head, ...new Array<number>(8 - explicit).fill(0), ...rest, ...tail]
}

function groups(text: string): number[] | undefined {
  if (text === '') return []
  const words: number[] = []
  for (const part of text.split(':')) {
    if (!HEX_GROUP.test(part)) return undefined
    words.push(Number.parseInt(part, 16))
  }
  return words
}

function isPortSuffix(text: string): boolean {
  if (text === '') return true
  if (!/^:\d{1,5}$/.test(text)) return false
  return Number(text.slice(1)) <= 65_535
}
