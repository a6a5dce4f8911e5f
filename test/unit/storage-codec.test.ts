import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { JsonValue } from '../../src/crdt/types.js'
import { prepareSave } from '../../src/storage/batch.js'
import {
  decodeClock,
  decodeKey,
  decodeRegister,
  decodeValue,
  encodeKey,
  encodeValue,
  isValidNodeId,
  toSafeInt,
} from '../../src/storage/codec.js'
import { StoreError, toStoreError } from '../../src/storage/errors.js'
import { register } from '../../src/testing/store-fixtures.js'

// Strings rich in what Postgres text/jsonb cannot hold: NUL, lone surrogates, the escape char.
const awkwardUnit = fc.oneof(
  fc.constantFrom('\u0000', '\ud800', '\udbff', '\udc00', '\udfff', '\u0001', '\\', '"', 'u', '0', '😀'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
)
const awkwardString = fc.string({ unit: awkwardUnit, maxLength: 12 })
const POSTGRES_REJECTS = /\0|\p{Cs}/u
/** Whether jsonb accepts a parsed JSON value: no string or key with NUL or a lone surrogate. */
const storable = (v: unknown): boolean =>
  typeof v === 'string'
    ? !POSTGRES_REJECTS.test(v)
    : typeof v === 'object' && v !== null
      ? Object.entries(v).every(([k, x]) => !POSTGRES_REJECTS.test(k) && storable(x))
      : true

describe('storage codec', () => {
  it('keys round-trip exactly, injectively, and encode to text Postgres accepts', () => {
    fc.assert(
      fc.property(awkwardString, awkwardString, (a, b) => {
        expect(decodeKey(encodeKey(a))).toBe(a)
        expect(POSTGRES_REJECTS.test(encodeKey(a))).toBe(false)
        if (a !== b) expect(encodeKey(a)).not.toBe(encodeKey(b))
      }),
      { numRuns: 2000 },
    )
    expect(encodeKey('plain field')).toBe('plain field')
  })

  it('values round-trip through their stored JSON text; stored text has no escape jsonb rejects', () => {
    const value = fc
      .jsonValue({ maxDepth: 3 })
      .chain((v) =>
        fc.oneof(fc.constant(v), awkwardString, fc.dictionary(awkwardString, awkwardString, { maxKeys: 3 })),
      )
      .map((v) => v as JsonValue)
    fc.assert(
      fc.property(value, (v) => {
        const { json, encoded } = encodeValue(v)
        expect(storable(JSON.parse(json))).toBe(true)
        expect(decodeValue(JSON.parse(json), encoded)).toEqual(JSON.parse(JSON.stringify(v)))
      }),
      { numRuns: 2000 },
    )
    expect(encodeValue(null)).toEqual({ json: 'null', encoded: false })
    expect(encodeValue('a\u0000')).toEqual({ json: JSON.stringify('"a\\u0000"'), encoded: true })
  })

  it('node ids: ASCII [A-Za-z0-9._:-], 1 to 128 characters', () => {
    for (const ok of ['a', 'node-1', 'host.example:8080', 'A_b', 'x'.repeat(128)])
      expect(isValidNodeId(ok)).toBe(true)
    for (const bad of ['', 'x'.repeat(129), 'ü', 'a b', 'a/b', 'a"b', 7])
      expect(isValidNodeId(bad)).toBe(false)
  })

  it('bigint columns are parsed strictly from strings, numbers and bigints', () => {
    expect(toSafeInt('9007199254740991', 'x')).toBe(Number.MAX_SAFE_INTEGER)
    expect(toSafeInt(12n, 'x')).toBe(12)
    expect(toSafeInt(3, 'x')).toBe(3)
    for (const bad of ['9007199254740993', '1.5', '', 'abc', 1.5, null, undefined, 2n ** 60n]) {
      expect(() => toSafeInt(bad, 'x')).toThrow(StoreError)
    }
  })

  it('decodes stored rows and clocks, rejecting corrupt ones with QUERY_ERROR', () => {
    expect(decodeRegister(['f', { a: 1 }, false, false, '5', 1, 'n', 'n', '7'])).toEqual({
      field: 'f',
      value: { a: 1 },
      deleted: false,
      stamp: { ms: 5, counter: 1, node: 'n' },
      dot: { node: 'n', seq: 7 },
    })
    expect(decodeRegister(['f', null, false, true, '5', 1, 'n', 'n', '7']).value).toBe(null)
    const clock = decodeClock('{"__proto__": 3, "a": 1}')
    expect(Object.hasOwn(clock, '__proto__')).toBe(true)
    expect(Object.getPrototypeOf(clock)).toBe(Object.prototype)
    for (const bad of [['f'], ['f', 1, 'no', false, '5', 1, 'n', 'n', '7'], 'x']) {
      expect(() => decodeRegister(bad)).toThrow(StoreError)
    }
    expect(() => decodeClock('[1]')).toThrow(StoreError)
    expect(() => decodeClock('{"a": "x"}')).toThrow(StoreError)
  })
})

describe('prepareSave', () => {
  it('merges duplicate documents and fields by LWW before they reach SQL', () => {
    const batch = prepareSave([
      {
        documentId: 'd',
        registers: [register('f', 'old', { ms: 1 }), register('f', 'new', { ms: 2 })],
        clock: { a: 1 },
      },
      { documentId: 'd', registers: [register('f', 'older', { ms: 0 })], clock: { a: 3, b: 1 } },
      { documentId: 'e', registers: [register('g', 'x', { ms: 1, deleted: true })], clock: {} },
    ])
    expect([batch.documentCount, batch.registerCount]).toEqual([2, 2])
    const rows = JSON.parse(batch.registers) as Array<{ d: string; v: unknown[]; x: boolean }>
    expect(rows.map((r) => [r.d, r.v, r.x])).toEqual([
      ['d', ['new'], false],
      ['e', [null], true],
    ])
    expect(JSON.parse(batch.clocks)).toEqual([
      { d: 'd', k: { a: 3, b: 1 } },
      { d: 'e', k: {} },
    ])
  })

  it('rejects what the columns cannot hold with QUERY_ERROR', () => {
    const bad = [
      register('f', 1, { ms: 1, node: 'ü' }),
      register('f', 1, { ms: -1 }),
      register('f', 1, { ms: 1.5 }),
      register('f', 1, { ms: 1, counter: 2 ** 31 }),
      register('f', 1, { ms: 1, seq: Number.MAX_SAFE_INTEGER + 2 }),
    ]
    for (const r of bad) {
      expect(() => prepareSave([{ documentId: 'd', registers: [r], clock: {} }])).toThrow(StoreError)
    }
    expect(() => prepareSave([{ documentId: 'd', registers: [], clock: { 'not ascii ü': 1 } }])).toThrow(
      StoreError,
    )
    expect(() => prepareSave([{ documentId: 'd', registers: [], clock: { a: -1 } }])).toThrow(StoreError)
  })
})

describe('toStoreError', () => {
  const make = (props: Record<string, unknown>): Error => Object.assign(new Error('boom'), props)
  it.each([
    [make({ code: 'ECONNREFUSED', syscall: 'connect' }), 'CONNECTION_ERROR', undefined],
    [make({ code: 'CONNECT_TIMEOUT' }), 'CONNECTION_ERROR', undefined],
    [make({ code: 'CONNECTION_ENDED' }), 'CONNECTION_ERROR', undefined],
    [make({ code: '57P01', severity: 'FATAL' }), 'CONNECTION_ERROR', '57P01'],
    [make({ code: '08006', severity: 'FATAL' }), 'CONNECTION_ERROR', '08006'],
    [make({ code: '3D000', severity: 'FATAL' }), 'CONNECTION_ERROR', '3D000'],
    [make({ code: '42P01', severity: 'ERROR' }), 'QUERY_ERROR', '42P01'],
    [make({ code: '40P01', severity: 'ERROR' }), 'QUERY_ERROR', '40P01'],
    [make({ code: 'UNDEFINED_VALUE' }), 'QUERY_ERROR', undefined],
    [new Error('plain'), 'QUERY_ERROR', undefined],
    ['a string', 'QUERY_ERROR', undefined],
  ])('%s -> %s', (error, code, sqlState) => {
    const mapped = toStoreError(error, 'ctx')
    expect([mapped.code, mapped.sqlState]).toEqual([code, sqlState])
    expect(mapped.message.startsWith('ctx: ')).toBe(true)
  })
})
