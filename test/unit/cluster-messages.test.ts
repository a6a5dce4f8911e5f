import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type ClusterMessage,
  decodeClusterMessage,
  encodeClusterMessage,
} from '../../src/cluster/messages.js'
import { CONTROL_TOPIC, documentTopic, nodeTopic } from '../../src/cluster/topics.js'
import type { Register } from '../../src/crdt/types.js'

const register: Register = {
  field: 'title',
  value: { nested: [1, 'two', null, true] },
  deleted: false,
  stamp: { ms: 1_700_000_000_000, counter: 3, node: 'node-a' },
  dot: { node: 'node-a', seq: 42 },
}
const tombstone: Register = {
  field: '__proto__',
  value: null,
  deleted: true,
  stamp: { ms: 1, counter: 0, node: 'n' },
  dot: { node: 'n', seq: 0 },
}

const samples: ClusterMessage[] = [
  { type: 'registers', documentId: 'doc-1', registers: [register, tombstone] },
  { type: 'registers', documentId: 'doc:2', registers: [] },
  { type: 'awareness', documentId: 'doc-1', entry: { clientId: 'c1', state: { cursor: 3 }, clock: 7 } },
  { type: 'awareness', documentId: 'doc-1', entry: { clientId: 'c1', state: null, clock: 8 } },
  { type: 'revoke', userId: 'u1' },
  { type: 'revoke', documentId: 'doc-1' },
  { type: 'revoke', userId: 'u1', documentId: 'doc-1' },
  { type: 'awareness-query', documentId: 'doc-1', replyTo: 'node-b' },
  {
    type: 'awareness-snapshot',
    documentId: 'doc-1',
    entries: [
      { clientId: 'c1', state: { name: 'Ann' }, clock: 1 },
      { clientId: 'c2', state: {}, clock: 2.5 },
    ],
  },
  { type: 'resync-request', documentId: 'doc-1', replyTo: 'node-b' },
]

describe('cluster message codec', () => {
  it('round-trips every message kind', () => {
    for (const message of samples) {
      const raw = encodeClusterMessage(message)
      expect(JSON.parse(raw).v).toBe(1)
      expect(decodeClusterMessage(raw)).toEqual(message)
    }
  })

  it('keeps a "__proto__" field name as data', () => {
    const decoded = decodeClusterMessage(encodeClusterMessage(samples[0] as ClusterMessage))
    expect(decoded?.type === 'registers' && decoded.registers[1]?.field).toBe('__proto__')
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype)
  })

  it('drops extra properties instead of passing them on', () => {
    const raw = JSON.stringify({ v: 1, type: 'resync-request', documentId: 'd', replyTo: 'n', extra: 1 })
    expect(decodeClusterMessage(raw)).toEqual({ type: 'resync-request', documentId: 'd', replyTo: 'n' })
  })

  const bad: Array<[string, unknown]> = [
    ['not JSON', '{'],
    ['a JSON array', [1]],
    ['no version', { type: 'revoke', userId: 'u' }],
    ['a newer version', { v: 2, type: 'revoke', userId: 'u' }],
    ['an unknown type', { v: 1, type: 'explode' }],
    ['a revoke naming nobody', { v: 1, type: 'revoke' }],
    ['a revoke with an empty user', { v: 1, type: 'revoke', userId: '' }],
    ['an invalid document id', { v: 1, type: 'resync-request', documentId: 'a b', replyTo: 'n' }],
    ['a missing replyTo', { v: 1, type: 'awareness-query', documentId: 'd' }],
    ['registers not an array', { v: 1, type: 'registers', documentId: 'd', registers: {} }],
    [
      'a register without value',
      { v: 1, type: 'registers', documentId: 'd', registers: [omit(register, 'value')] },
    ],
    [
      'a tombstone with a value',
      { v: 1, type: 'registers', documentId: 'd', registers: [{ ...tombstone, value: 1 }] },
    ],
    [
      'a negative counter',
      {
        v: 1,
        type: 'registers',
        documentId: 'd',
        registers: [{ ...register, stamp: { ...register.stamp, counter: -1 } }],
      },
    ],
    [
      'a fractional seq',
      {
        v: 1,
        type: 'registers',
        documentId: 'd',
        registers: [{ ...register, dot: { node: 'n', seq: 1.5 } }],
      },
    ],
    [
      'an array state',
      { v: 1, type: 'awareness', documentId: 'd', entry: { clientId: 'c', state: [], clock: 1 } },
    ],
    [
      'an empty client id',
      { v: 1, type: 'awareness', documentId: 'd', entry: { clientId: '', state: null, clock: 1 } },
    ],
    [
      'a string clock',
      { v: 1, type: 'awareness', documentId: 'd', entry: { clientId: 'c', state: null, clock: '1' } },
    ],
    ['a bad snapshot entry', { v: 1, type: 'awareness-snapshot', documentId: 'd', entries: [null] }],
  ]
  for (const [label, value] of bad) {
    it(`rejects ${label}`, () => {
      const raw = typeof value === 'string' ? value : JSON.stringify(value)
      expect(decodeClusterMessage(raw)).toBeUndefined()
    })
  }

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify({ v: 1, ...asObject(v) })),
        ),
        (raw) => {
          decodeClusterMessage(raw)
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('round-trips arbitrary registers', () => {
    const stamp = fc.record({ ms: fc.nat(), counter: fc.nat(), node: fc.string({ minLength: 1 }) })
    const dot = fc.record({ node: fc.string({ minLength: 1 }), seq: fc.nat() })
    const live = fc.record({
      field: fc.string(),
      value: fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v))),
      deleted: fc.constant(false),
      stamp,
      dot,
    })
    const dead = fc.record({
      field: fc.string(),
      value: fc.constant(null),
      deleted: fc.constant(true),
      stamp,
      dot,
    })
    fc.assert(
      fc.property(fc.array(fc.oneof(live, dead)), (registers) => {
        const message: ClusterMessage = { type: 'registers', documentId: 'doc', registers }
        expect(decodeClusterMessage(encodeClusterMessage(message))).toEqual(message)
      }),
      { numRuns: 300 },
    )
  })
})

describe('topics', () => {
  it('names documents, nodes and the control channel', () => {
    expect(documentTopic('a:b')).toBe('doc:a:b')
    expect(nodeTopic('n1')).toBe('node:n1')
    expect(CONTROL_TOPIC).toBe('control')
  })
})

function omit<T extends object>(value: T, key: keyof T): Partial<T> {
  const copy = { ...value }
  delete copy[key]
  return copy
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {}
}
