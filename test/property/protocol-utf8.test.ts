import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeClientFrame, decodeUtf8 } from '../../src/protocol/index.js'

describe('decodeUtf8', () => {
  it('round-trips any string through TextEncoder', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        expect(decodeUtf8(new TextEncoder().encode(text))).toBe(text)
      }),
      { numRuns: 1000 },
    )
  })

  it.each([
    ['a lone continuation byte', [0x61, 0x80]],
    ['a truncated 3-byte sequence', [0xe6, 0x97]],
    ['an overlong "/"', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ['a byte that never occurs', [0xff]],
  ])('rejects %s instead of repairing it with U+FFFD', (_name, bytes) => {
    expect(() => decodeUtf8(new Uint8Array(bytes))).toThrow()
  })

  it('a binary frame whose payload is not UTF-8 is a malformed frame', () => {
    const payload = new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]) // {"a":"\xff"}
    const frame = new Uint8Array(13 + payload.length)
    frame[0] = 0x30
    new DataView(frame.buffer).setUint32(9, payload.length)
    frame.set(payload, 13)
    expect(decodeClientFrame(frame)).toMatchObject({
      ok: false,
      error: { message: 'Invalid message format', code: 'INVALID_MESSAGE' },
    })
  })
})
