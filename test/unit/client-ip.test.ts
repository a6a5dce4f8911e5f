import { describe, expect, it } from 'vitest'
import { compileTrustProxy, resolveClientIp, TrustProxyError } from '../../src/server/client-ip.js'
import {
  formatIp,
  inRange,
  ipGroupKey,
  parseForwardedAddress,
  parseIp,
  parseRange,
} from '../../src/server/ip-address.js'
import type { TrustProxy, UpgradeRequest } from '../../src/server/options.js'

const canonical = (text: string) => {
  const address = parseIp(text)
  return address && formatIp(address)
}

/** The client address for a request from `peer` carrying these headers. */
function clientOf(
  trust: TrustProxy,
  peer: string | undefined,
  headers: UpgradeRequest['headers'] = {},
): string | undefined {
  return resolveClientIp(
    { ...(peer === undefined ? {} : { remoteAddress: peer }), headers },
    compileTrustProxy(trust),
  )
}
const xff = (value: string) => ({ 'x-forwarded-for': value })

function expectRefused(parse: (text: string) => unknown, inputs: string[]): void {
  for (const input of inputs) expect(parse(input), JSON.stringify(input)).toBeUndefined()
}

describe('IP addresses', () => {
  it('parses IPv4 strictly: four decimal octets, no leading zeros, nothing around them', () => {
    expect(canonical('203.0.113.7')).toBe('203.0.113.7')
    expect(canonical('0.0.0.0')).toBe('0.0.0.0')
    expect(canonical('255.255.255.255')).toBe('255.255.255.255')
    expectRefused(parseIp, [
      '256.0.0.1',
      '1.2.3',
      '1.2.3.4.5',
      '01.2.3.4',
      '1.2.3.4 ',
      ' 1.2.3.4',
      '1.2.3.-4',
      '0x7f.0.0.1',
      '',
    ])
  })

  it('parses IPv6 in every legal spelling and prints RFC 5952 text', () => {
    expect(canonical('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1')
    expect(canonical('2001:db8::0:1')).toBe('2001:db8::1')
    expect(canonical('1:0:0:2:0:0:0:3')).toBe('1:0:0:2::3') // the longer zero run is compressed
    expect(canonical('1:0:0:2:0:0:3:4')).toBe('1::2:0:0:3:4') // a tie: the first run
    expect(canonical('1:0:2:3:4:5:6:7')).toBe('1:0:2:3:4:5:6:7') // a single zero group stays
    expect(canonical('::')).toBe('::')
    expect(canonical('::1')).toBe('::1')
    expect(canonical('1:2:3:4:5:6:7::')).toBe('1:2:3:4:5:6:7:0')
    expect(canonical('fe80::1%eth0')).toBe('fe80::1') // the zone id is dropped
    expect(canonical('1:2:3:4:5:6:1.2.3.4')).toBe('1:2:3:4:5:6:102:304')
    expectRefused(parseIp, [
      '1::2::3',
      ':::',
      '1:2:3:4:5:6:7:8:9',
      '12345::1',
      'g::1',
      '1:2:3:4:5:6:7',
      ':1::',
      'fe80::1%',
      'fe80::1%a b',
      '[::1]',
    ])
  })

  it('unmaps IPv4-mapped IPv6, so one client is one address whichever socket family took it', () => {
    expect(parseIp('::ffff:10.0.0.9')).toEqual({ version: 4, words: [0x0a00, 0x0009] })
    expect(canonical('::FFFF:0a00:0009')).toBe('10.0.0.9')
    expect(canonical('::10.0.0.9')).toBe('::a00:9') // IPv4-compatible (deprecated) is not mapped
  })

  it('reads forwarded entries with a port or brackets, as some proxies write them', () => {
    const forwarded = (text: string) => {
      const address = parseForwardedAddress(text)
      return address && formatIp(address)
    }
    expect(forwarded('203.0.113.7:4711')).toBe('203.0.113.7')
    expect(forwarded('[2001:db8::1]:443')).toBe('2001:db8::1')
    expect(forwarded('[2001:db8::1]')).toBe('2001:db8::1')
    expect(forwarded('[::ffff:10.0.0.1]:80')).toBe('10.0.0.1')
    expect(forwarded('2001:db8::1')).toBe('2001:db8::1')
    expectRefused(parseForwardedAddress, [
      '203.0.113.7:99999',
      '203.0.113.7:',
      '203.0.113.7:x',
      '[203.0.113.7]',
      '[2001:db8::1',
      '[2001:db8::1]x',
      'unknown',
      '_hidden',
      '',
    ])
  })

  it('matches CIDR ranges for IPv4 and IPv6, never across families', () => {
    const range = (text: string) => {
      const parsed = parseRange(text)
      if ('error' in parsed) throw new Error(parsed.error)
      return parsed
    }
    const inside = (ip: string, cidr: string) => inRange(parseIp(ip)!, range(cidr))
    expect(inside('10.1.2.3', '10.0.0.0/8')).toBe(true)
    expect(inside('11.0.0.0', '10.0.0.0/8')).toBe(false)
    expect(inside('172.31.255.255', '172.16.0.0/12')).toBe(true)
    expect(inside('172.32.0.0', '172.16.0.0/12')).toBe(false)
    expect(inside('10.0.0.1', '10.0.0.1')).toBe(true)
    expect(inside('10.0.0.2', '10.0.0.1')).toBe(false)
    expect(inside('203.0.113.7', '0.0.0.0/0')).toBe(true)
    expect(inside('10.0.0.7', '10.0.0.1/8')).toBe(true) // bits past the prefix are ignored
    expect(inside('fd12:3456::1', 'fc00::/7')).toBe(true)
    expect(inside('fe80::1', 'fc00::/7')).toBe(false)
    expect(inside('2001:db8:abcd:12ff::1', '2001:db8:abcd:1200::/56')).toBe(true)
    expect(inside('2001:db8:abcd:1300::1', '2001:db8:abcd:1200::/56')).toBe(false)
    expect(inside('10.0.0.1', '::ffff:10.0.0.0/104')).toBe(true) // a mapped range names IPv4
    expect(inside('10.0.0.1', '::/0')).toBe(false)
    expect(inside('::ffff:10.0.0.1', '10.0.0.0/8')).toBe(true)
    expect(parseRange('10.0.0.0/33')).toEqual({ error: '"10.0.0.0/33" has a prefix length over 32' })
    expect(parseRange('::/129')).toEqual({ error: '"::/129" has a prefix length over 128' })
    expect(parseRange('10.0.0.0/')).toEqual({ error: '"10.0.0.0/" has an invalid prefix length' })
    expect(parseRange('10.0.0.0/8/8')).toEqual({ error: '"10.0.0.0/8/8" has an invalid prefix length' })
    expect(parseRange('::ffff:10.0.0.0/95')).toEqual({
      error: '"::ffff:10.0.0.0/95" has a prefix length under 96 for an IPv4-mapped range',
    })
    expect(parseRange('proxy.local')).toEqual({ error: '"proxy.local" is not an IP address or CIDR range' })
  })

  it('groups IPv6 clients by /64 for the per-IP limit, IPv4 by address', () => {
    expect(ipGroupKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64')
    expect(ipGroupKey('2001:DB8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64')
    expect(ipGroupKey('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64')
    expect(ipGroupKey('::1')).toBe('::/64')
    expect(ipGroupKey('10.0.0.1')).toBe('10.0.0.1')
    expect(ipGroupKey('::ffff:10.0.0.1')).toBe('10.0.0.1')
    expect(ipGroupKey('peer-7')).toBe('peer-7') // a custom transport's peer id
  })
})

describe('compileTrustProxy', () => {
  it('refuses values that cannot be a trust setting, naming the bad part', () => {
    const problem = (value: unknown) => {
      try {
        compileTrustProxy(value as TrustProxy)
      } catch (error) {
        if (error instanceof TrustProxyError) return error.message
        throw error
      }
      return 'accepted'
    }
    expect(problem(-1)).toBe('-1 is not a whole number of hops')
    expect(problem(1.5)).toBe('1.5 is not a whole number of hops')
    expect(problem(Number.NaN)).toBe('NaN is not a whole number of hops')
    expect(problem('10.0.0.1')).toBe('a string is not a trust setting (pass a list: ["10.0.0.1"])')
    expect(problem({})).toBe('an object is not a trust setting')
    expect(problem(['10.0.0.1', 7])).toBe('a number is not an address or range')
    expect(problem(['10.0.0.1', ' '])).toBe('an entry is empty')
    expect(problem(['proxy.internal'])).toBe('"proxy.internal" is not an IP address or CIDR range')
    expect(problem(['10.0.0.0/40'])).toBe('"10.0.0.0/40" has a prefix length over 32')
    expect(problem([])).toBe('accepted')
    expect(problem(['loopback', 'linklocal', 'uniquelocal'])).toBe('accepted')
  })
})

describe('resolveClientIp', () => {
  const headers = xff('198.51.100.1, 203.0.113.7, 10.0.0.2')

  it('ignores every proxy header with false, 0, an empty list, or no setting', () => {
    for (const trust of [false, 0, []] satisfies TrustProxy[]) {
      expect(clientOf(trust, '10.0.0.1', { ...headers, 'x-real-ip': '198.51.100.9' })).toBe('10.0.0.1')
    }
    expect(resolveClientIp({ remoteAddress: '10.0.0.1', headers }, compileTrustProxy(undefined))).toBe(
      '10.0.0.1',
    )
  })

  it('counts hops from the right: true is one hop, N reads the Nth entry from the right', () => {
    expect(clientOf(true, '10.0.0.1', headers)).toBe('10.0.0.2')
    expect(clientOf(1, '10.0.0.1', headers)).toBe('10.0.0.2')
    expect(clientOf(2, '10.0.0.1', headers)).toBe('203.0.113.7')
    expect(clientOf(3, '10.0.0.1', headers)).toBe('198.51.100.1')
    // More hops than entries: the leftmost entry, as Express does.
    expect(clientOf(9, '10.0.0.1', headers)).toBe('198.51.100.1')
    // A trusted peer without the header is itself the client.
    expect(clientOf(2, '10.0.0.1')).toBe('10.0.0.1')
  })

  it('with a list, walks right to left past trusted proxies and stops at the first other address', () => {
    expect(clientOf(['10.0.0.1'], '10.0.0.1', headers)).toBe('10.0.0.2')
    expect(clientOf(['10.0.0.0/8'], '10.0.0.1', headers)).toBe('203.0.113.7')
    expect(clientOf(['10.0.0.0/8', '203.0.113.0/24'], '10.0.0.1', headers)).toBe('198.51.100.1')
    expect(clientOf(['uniquelocal'], '10.0.0.1', headers)).toBe('203.0.113.7')
    expect(clientOf(['loopback'], '127.0.0.1', xff('203.0.113.7, 127.0.0.5'))).toBe('203.0.113.7')
    // The peer is not a trusted proxy: its headers are ignored.
    expect(clientOf(['10.0.0.0/8'], '192.0.2.1', headers)).toBe('192.0.2.1')
    expect(clientOf(['10.0.0.0/8'], undefined, headers)).toBeUndefined()
  })

  it('handles IPv6 peers, entries and ranges, and unmaps IPv4-mapped peers', () => {
    const v6 = xff('2001:db8:ffff::9, [2001:db8:aaaa::5]:1234, fd00::2')
    expect(clientOf(['fd00::/8'], 'fd00::1', v6)).toBe('2001:db8:aaaa::5')
    expect(clientOf(['fd00::/8', '2001:db8:aaaa::/48'], 'fd00::1', v6)).toBe('2001:db8:ffff::9')
    expect(clientOf(['fd00::1'], 'FD00:0::1', v6)).toBe('fd00::2') // the peer matched after parsing
    expect(clientOf(['10.0.0.1'], '::ffff:10.0.0.1', xff('2001:DB8::7'))).toBe('2001:db8::7')
    expect(clientOf(false, '::ffff:10.0.0.1')).toBe('10.0.0.1')
    expect(clientOf(1, '::1', xff('::ffff:203.0.113.7'))).toBe('203.0.113.7')
  })

  it('never takes junk for an address: the walk stops at the trusted hop that forwarded it', () => {
    for (const junk of [
      'unknown',
      'evil',
      '',
      ' ',
      '1.2.3',
      '300.1.1.1',
      '10.0.0.1/8',
      '_obfuscated',
      'a'.repeat(5000),
    ]) {
      // The proxy at 10.0.0.1 appended the junk: the client counts as that proxy's address.
      expect(clientOf(1, '10.0.0.1', xff(junk)), junk).toBe('10.0.0.1')
      expect(clientOf(2, '10.0.0.1', xff(`${junk}, 10.0.0.2`)), junk).toBe('10.0.0.2')
      expect(clientOf(['10.0.0.0/8'], '10.0.0.1', xff(`198.51.100.1, ${junk}, 10.0.0.2`)), junk).toBe(
        '10.0.0.2',
      )
    }
    expect(clientOf(1, '10.0.0.1', xff(',,,'))).toBe('10.0.0.1')
    expect(clientOf(3, '10.0.0.1', xff('198.51.100.1,,10.0.0.2'))).toBe('10.0.0.2')
  })

  it('reads X-Real-IP only from a trusted peer and only without X-Forwarded-For', () => {
    const real = { 'x-real-ip': '198.51.100.9' }
    expect(clientOf(1, '10.0.0.1', real)).toBe('198.51.100.9')
    expect(clientOf(['10.0.0.1'], '10.0.0.1', real)).toBe('198.51.100.9')
    expect(clientOf(['10.0.0.1'], '192.0.2.1', real)).toBe('192.0.2.1')
    expect(clientOf(1, '10.0.0.1', { ...real, ...xff('203.0.113.7') })).toBe('203.0.113.7')
    expect(clientOf(1, '10.0.0.1', { 'x-real-ip': '198.51.100.9, 198.51.100.10' })).toBe('10.0.0.1')
    expect(clientOf(1, '10.0.0.1', { 'x-real-ip': 'nonsense' })).toBe('10.0.0.1')
  })

  it('reads repeated headers, any header case, and Web Headers', () => {
    expect(clientOf(2, '10.0.0.1', { 'x-forwarded-for': ['198.51.100.1', '203.0.113.7'] })).toBe(
      '198.51.100.1',
    )
    expect(clientOf(1, '10.0.0.1', { 'X-Forwarded-For': '203.0.113.7' })).toBe('203.0.113.7')
    const web = new Headers()
    web.append('X-Forwarded-For', '198.51.100.1')
    web.append('X-Forwarded-For', '203.0.113.7')
    expect(clientOf(2, '10.0.0.1', web)).toBe('198.51.100.1')
    expect(clientOf(1, '10.0.0.1', new Headers({ 'x-real-ip': '198.51.100.9' }))).toBe('198.51.100.9')
  })

  it('keeps a non-IP peer id from a custom transport (bounded), and trusts it only by hop count', () => {
    expect(clientOf(false, 'peer-7')).toBe('peer-7')
    expect(clientOf(false, 'p'.repeat(200))).toBe('p'.repeat(64))
    expect(clientOf(['10.0.0.0/8'], 'peer-7', xff('203.0.113.7'))).toBe('peer-7')
    expect(clientOf(1, 'peer-7', xff('203.0.113.7'))).toBe('203.0.113.7')
    // No peer address at all (some transports): hops still read the header, a list cannot match.
    expect(clientOf(1, undefined, xff('203.0.113.7'))).toBe('203.0.113.7')
    expect(clientOf(1, undefined)).toBeUndefined()
  })
})
