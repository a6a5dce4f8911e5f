import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeUtf8 } from '../../src/protocol/utf8.js'

const strict = new TextDecoder('utf-8', { fatal: true })

function outcome(decode: () => string): { ok: true; text: string } | { ok: false } {
  try {
    return { ok: true, text: decode() }
  } catch {
    return { ok: false }
  }
}

describe('decodeUtf8 (ASCII fast path)', () => {
  it('agrees with a strict TextDecoder on arbitrary bytes, ASCII-heavy and not', () => {
    const asciiHeavy = fc
      .uint8Array({ maxLength: 700 })
      .map((bytes) => bytes.map((b) => (b % 5 === 0 ? b : b & 0x7f)))
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 700 }), asciiHeavy), (bytes) => {
        expect(outcome(() => decodeUtf8(bytes))).toEqual(outcome(() => strict.decode(bytes)))
      }),
      { numRuns: 2000 },
    )
  })

  it('round-trips any string through TextEncoder', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        expect(decodeUtf8(new TextEncoder().encode(text))).toBe(text)
      }),
      { numRuns: 1000 },
    )
  })
})
