import { describe, expect, it } from 'vitest'
import {
  codeOfType,
  decodeBase64,
  detectFormat,
  encodeBase64,
  isTombstone,
  MAX_CLOCK_ENTRIES,
  MESSAGE_TYPE_CODES,
  sanitizeClock,
  typeFromCode,
  utf8Length,
  validateDocumentId,
} from '../../src/protocol/index.js'

describe('type codes', () => {
  it('maps every registry entry both ways', () => {
    for (const [type, code] of Object.entries(MESSAGE_TYPE_CODES)) {
      expect(typeFromCode(code)).toBe(type)
      expect(codeOfType(type)).toBe(code)
    }
    expect(Object.keys(MESSAGE_TYPE_CODES)).toHaveLength(19)
  })

  it('knows the exact codes of docs/protocol.md §3.1', () => {
    expect(codeOfType('delta')).toBe(0x20)
    expect(codeOfType('delta_batch')).toBe(0x50)
    expect(codeOfType('error')).toBe(0xff)
    expect(typeFromCode(0x23)).toBe('delta_batch_chunk')
    expect(typeFromCode(0x42)).toBe('awareness_state')
  })

  it('answers undefined for unknown codes and names, including prototype members', () => {
    for (const code of [0x00, 0x04, 0x22, 0x51, 0xfe, 256, -1, 1.5, Number.NaN]) {
      expect(typeFromCode(code)).toBeUndefined()
    }
    for (const name of ['connect', 'snapshot_request', 'toString', '__proto__', 'constructor', '']) {
      expect(codeOfType(name)).toBeUndefined()
    }
  })
})

describe('detectFormat', () => {
  it('treats strings as JSON whatever they contain', () => {
    expect(detectFormat('{"type":"ping"}')).toBe('json')
    expect(detectFormat('garbage')).toBe('json')
    expect(detectFormat('')).toBe('json')
  })
  it('treats bytes starting with { as JSON, anything else as binary', () => {
    expect(detectFormat(new Uint8Array([0x7b, 0x7d]))).toBe('json')
    expect(detectFormat(new Uint8Array([0x30, 0x7b]))).toBe('binary')
    expect(detectFormat(new Uint8Array([0x20, 0x7b]))).toBe('binary') // leading space is not JSON here
    expect(detectFormat(new Uint8Array())).toBe('binary')
  })
})

describe('isTombstone', () => {
  it('accepts only a non-array object whose __deleted is exactly true', () => {
    expect(isTombstone({ __deleted: true })).toBe(true)
    expect(isTombstone({ __deleted: true, extra: 1 })).toBe(true)
    expect(isTombstone({ __deleted: 'true' })).toBe(false)
    expect(isTombstone({ __deleted: 1 })).toBe(false)
    expect(isTombstone({})).toBe(false)
    expect(isTombstone(null)).toBe(false)
    expect(isTombstone(undefined)).toBe(false)
    expect(isTombstone('__deleted')).toBe(false)
    expect(isTombstone(Object.assign([], { __deleted: true }))).toBe(false)
    // An inherited marker is not the value's own data.
    expect(isTombstone(Object.create({ __deleted: true }))).toBe(false)
  })
})

describe('utf8Length', () => {
  it('matches TextEncoder on ASCII, 2-, 3- and 4-byte characters and lone surrogates', () => {
    const samples = [
      '',
      'abc',
      'é',
      'ß€',
      '日本語',
      '😀',
      'a😀b',
      '\ud800',
      'x\udc00y',
      '\ud83d',
      '\u07ff\u0800',
    ]
    for (const s of samples) expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length)
  })
})

describe('validateDocumentId', () => {
  it('accepts ids made of [a-zA-Z0-9_:-] up to 256 chars', () => {
    expect(validateDocumentId('room:abc_1-2')).toBeUndefined()
    expect(validateDocumentId('x'.repeat(256))).toBeUndefined()
  })
  it('returns the exact texts of docs/protocol.md §3.4', () => {
    expect(validateDocumentId('')).toBe('Invalid document ID')
    expect(validateDocumentId(undefined)).toBe('Invalid document ID')
    expect(validateDocumentId(42)).toBe('Invalid document ID')
    expect(validateDocumentId(null)).toBe('Invalid document ID')
    expect(validateDocumentId('x'.repeat(257))).toBe('Document ID too long')
    expect(validateDocumentId('a b')).toBe('Document ID contains invalid characters')
    expect(validateDocumentId('a/b')).toBe('Document ID contains invalid characters')
    expect(validateDocumentId('doc\n')).toBe('Document ID contains invalid characters')
    expect(validateDocumentId('é')).toBe('Document ID contains invalid characters')
  })
})

describe('sanitizeClock', () => {
  it('keeps non-negative safe integers up to 2^48', () => {
    expect(sanitizeClock({ a: 0, b: 7, c: 2 ** 48 })).toEqual({ a: 0, b: 7, c: 2 ** 48 })
  })
  it('drops negative, fractional, huge, non-numeric entries', () => {
    expect(
      sanitizeClock({
        neg: -1,
        frac: 1.5,
        huge: 1e15,
        over: 2 ** 48 + 1,
        str: '5',
        nul: null,
        obj: {},
        ok: 3,
      }),
    ).toEqual({ ok: 3 })
  })
  it('treats a non-object as absent and an all-garbage object as empty', () => {
    expect(sanitizeClock(undefined)).toBeUndefined()
    expect(sanitizeClock(null)).toBeUndefined()
    expect(sanitizeClock('{"a":1}')).toBeUndefined()
    expect(sanitizeClock([1, 2])).toBeUndefined()
    expect(sanitizeClock(5)).toBeUndefined()
    expect(sanitizeClock({ a: -5 })).toEqual({})
  })
  it('caps the number of kept entries', () => {
    const big: Record<string, number> = {}
    for (let i = 0; i < MAX_CLOCK_ENTRIES + 50; i++) big[`n${i}`] = i
    const clock = sanitizeClock(big)!
    expect(Object.keys(clock)).toHaveLength(MAX_CLOCK_ENTRIES)
    expect(clock.n0).toBe(0)
    expect(clock[`n${MAX_CLOCK_ENTRIES}`]).toBeUndefined()
  })
  it('keeps a __proto__ client id as data without touching prototypes', () => {
    const clock = sanitizeClock(JSON.parse('{"__proto__": 4, "a": 1}'))!
    expect(Object.getPrototypeOf(clock)).toBe(Object.prototype)
    expect(Object.hasOwn(clock, '__proto__')).toBe(true)
    expect(Object.entries(clock)).toEqual([
      ['__proto__', 4],
      ['a', 1],
    ])
  })
})

describe('base64', () => {
  it('round-trips every remainder length', () => {
    for (let n = 0; n < 10; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 97 + 13) & 0xff)
      const text = encodeBase64(bytes)
      expect(text).toBe(btoa(String.fromCharCode(...bytes)))
      expect(decodeBase64(text)).toEqual(bytes)
      expect(decodeBase64(text.replace(/=+$/, ''))).toEqual(bytes) // padding optional
    }
  })
  it('rejects non-alphabet characters, bad padding and impossible lengths', () => {
    for (const bad of ['a', 'abcde', 'ab=c', 'a===', '====', 'ab c', 'ab-_', 'QQ=', 'QUJD=', 'é']) {
      expect(decodeBase64(bad)).toBeUndefined()
    }
  })
})
