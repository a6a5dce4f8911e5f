import { isIP } from 'node:net'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compileTrustProxy, resolveClientIp } from '../../src/server/client-ip.js'
import { formatIp, type IpAddress, parseIp } from '../../src/server/ip-address.js'
import type { TrustProxy } from '../../src/server/options.js'

/**
 * The client-address rules as properties: the parser agrees with Node's, and nothing a client
 * writes into `X-Forwarded-For` changes the address a correctly configured server sees, nor ever
 * becomes anything but a canonical IP address.
 */

const word = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }))
const ipv6Words = fc.array(word, { minLength: 8, maxLength: 8 })
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((octets) => octets.join('.'))

/** IPv6 text in the many spellings a header may carry: padded, upper case, compressed, mixed. */
const ipv6Text = fc
  .tuple(ipv6Words, fc.boolean(), fc.boolean(), fc.boolean(), fc.nat(7))
  .map(([words, pad, upper, withIpv4, cut]) => {
    let groups = words.map((w) => (pad ? w.toString(16).padStart(4, '0') : w.toString(16)))
    if (upper) groups = groups.map((g) => g.toUpperCase())
    let text = groups.join(':')
    if (withIpv4) {
      const [a = 0, b = 0] = words.slice(6)
      text = `${groups.slice(0, 6).join(':')}:${a >> 8}.${a & 0xff}.${b >> 8}.${b & 0xff}`
    }
    // Compress one zero run starting at `cut`, when there is one.
    let end = cut
    while (end < 6 && words[end] === 0) end++
    if (end - cut >= 2 && !withIpv4)
      text = `${groups.slice(0, cut).join(':')}::${groups.slice(end).join(':')}`
    return text
  })

/** A valid address, then perhaps one character inserted or removed: both sides of the boundary. */
const addressLike = fc
  .tuple(
    fc.oneof(ipv4, ipv6Text),
    fc.nat(50),
    fc.constantFrom('', ':', '.', '0', 'f', 'g', '::', ' ', '-'),
    fc.boolean(),
  )
  .map(([text, at, char, remove]) => {
    const i = at % (text.length + 1)
    return remove ? text.slice(0, i) + text.slice(i + 1) : text.slice(0, i) + char + text.slice(i)
  })

describe('IP parsing (properties)', () => {
  it('accepts exactly what node:net accepts (no zone ids generated)', () => {
    fc.assert(
      fc.property(fc.oneof(addressLike, fc.string({ maxLength: 50 })), (text) => {
        expect(parseIp(text) !== undefined, JSON.stringify(text)).toBe(isIP(text) !== 0)
      }),
      { numRuns: 5000 },
    )
  })

  it('prints IPv6 as WHATWG URL does (RFC 5952), and text parses back to the same address', () => {
    fc.assert(
      fc.property(ipv6Words, (words) => {
        const address: IpAddress = { version: 6, words }
        const mapped = words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff
        const text = formatIp(address)
        if (!mapped) expect(text).toBe(new URL(`http://[${text}]`).hostname.slice(1, -1))
        const back = parseIp(text)
        expect(back?.words).toEqual(mapped ? words.slice(6) : words)
      }),
      { numRuns: 2000 },
    )
  })
})

/** Entries a client may write: addresses, junk, ports, brackets, separators. */
const clientEntry = fc.oneof(
  ipv4,
  ipv6Text,
  addressLike,
  fc.string({ maxLength: 30 }),
  fc.constantFrom('unknown', '', ' ', ',', '[::1]:80', '1.2.3.4:5', '10.0.0.1', '127.0.0.1'),
)
const spoofed = fc.array(clientEntry, { maxLength: 6 }).map((entries) => entries.join(','))

describe('resolveClientIp (properties)', () => {
  it('behind N proxies that append, the client is the address the outermost proxy saw', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        ipv4,
        fc.array(ipv4, { minLength: 4, maxLength: 4 }),
        fc.option(spoofed),
        (hops, real, proxies, forged) => {
          // proxies[0] received the client; each later proxy received the one before it.
          const chain = proxies.slice(0, hops)
          const appended = [real, ...chain.slice(0, -1)]
          const header = forged === null ? appended.join(', ') : `${forged}, ${appended.join(', ')}`
          const peer = chain[chain.length - 1]
          const request = { remoteAddress: peer, headers: { 'x-forwarded-for': header } }
          expect(resolveClientIp(request, compileTrustProxy(hops))).toBe(real)
          // The same proxies named in a list: the same client, when it is not one of them.
          if (!chain.includes(real)) expect(resolveClientIp(request, compileTrustProxy(chain))).toBe(real)
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('whatever the headers hold, the result is the peer or a canonical address, never raw header text', () => {
    const trust = fc.oneof(
      fc.boolean(),
      fc.nat(6),
      fc.constant(['10.0.0.0/8', 'loopback']),
      fc.constant(['0.0.0.0/0', '::/0']),
    ) as fc.Arbitrary<TrustProxy>
    fc.assert(
      fc.property(trust, spoofed, fc.option(clientEntry), (setting, forwarded, real) => {
        const headers: Record<string, string> = { 'x-forwarded-for': forwarded }
        if (real !== null) headers['x-real-ip'] = real
        const ip = resolveClientIp({ remoteAddress: '10.0.0.1', headers }, compileTrustProxy(setting))
        expect(ip).toBeDefined()
        const parsed = parseIp(ip as string)
        expect(parsed && formatIp(parsed), String(ip)).toBe(ip)
      }),
      { numRuns: 3000 },
    )
  })
})
