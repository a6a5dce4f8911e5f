import { describe, expect, it } from 'vitest'
import { decodeClientFrame, encodeFrame, parseFrame } from '../../src/protocol/index.js'

/** A binary frame with a hand-written payload and an optional declared length / trailer. */
function rawBinary(
  code: number,
  timestamp: number,
  payload: string | Uint8Array,
  declared?: number,
): Uint8Array {
  const body = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload
  const frame = new Uint8Array(13 + body.length)
  const view = new DataView(frame.buffer)
  view.setUint8(0, code)
  view.setBigInt64(1, BigInt(timestamp))
  view.setUint32(9, declared ?? body.length)
  frame.set(body, 13)
  return frame
}

const invalidFormat = { message: 'Invalid message format', code: 'INVALID_MESSAGE' }

describe('parseFrame: binary', () => {
  it('takes type from the code, timestamp from the header, fields from the payload', () => {
    const parsed = parseFrame(rawBinary(0x10, 1234, '{"documentId":"d","id":"x"}'))
    expect(parsed).toEqual({
      ok: true,
      type: 'subscribe',
      fields: { documentId: 'd', id: 'x' },
      timestamp: 1234,
      format: 'binary',
      bytes: 13 + 27,
    })
  })

  it('ignores a payload type key (SDK 0.1.1 and C# put one there)', () => {
    const parsed = parseFrame(rawBinary(0x20, 1, '{"type":"set","documentId":"d"}'))
    expect(parsed.ok && parsed.type).toBe('delta')
    const decoded = decodeClientFrame(
      rawBinary(0x20, 1, '{"type":"set","documentId":"d","field":"f","value":1}'),
    )
    expect(decoded.ok && decoded.message).toMatchObject({ type: 'delta', documentId: 'd', timestamp: 1 })
  })

  it('lets a numeric payload timestamp override the header, but not a non-numeric one', () => {
    const a = parseFrame(rawBinary(0x30, 999, '{"timestamp":5}'))
    expect(a.ok && a.timestamp).toBe(5)
    const b = parseFrame(rawBinary(0x30, 999, '{"timestamp":"5"}'))
    expect(b.ok && b.timestamp).toBe(999)
    expect(decodeClientFrame(rawBinary(0x30, 999, '{"timestamp":"5"}'))).toMatchObject({
      ok: true,
      message: { type: 'ping', timestamp: 999 },
    })
  })

  it('ignores trailing bytes after 13+N', () => {
    const body = new TextEncoder().encode('{"a":1}garbage\xff')
    const parsed = parseFrame(rawBinary(0x30, 0, body, 7))
    expect(parsed.ok && parsed.fields).toEqual({ a: 1 })
    expect(parsed.bytes).toBe(13 + body.length)
  })

  it('reads a header timestamp of real-world size and a negative one', () => {
    const now = 1_712_345_678_901
    expect(parseFrame(rawBinary(0x30, now, '{}'))).toMatchObject({ ok: true, timestamp: now })
    expect(parseFrame(rawBinary(0x30, -7, '{}'))).toMatchObject({ ok: true, timestamp: -7 })
  })

  it('accepts a subarray view at a non-zero offset', () => {
    const inner = rawBinary(0x31, 3, '{"id":"p"}')
    const outer = new Uint8Array(inner.length + 5)
    outer.set(inner, 5)
    expect(parseFrame(outer.subarray(5))).toMatchObject({
      ok: true,
      type: 'pong',
      timestamp: 3,
      fields: { id: 'p' },
    })
  })

  it.each([
    ['shorter than the header', new Uint8Array([0x30, 0, 0, 0])],
    ['empty', new Uint8Array()],
    ['unknown code', rawBinary(0x99, 0, '{}')],
    ['short payload', rawBinary(0x30, 0, '{}', 3)],
    ['bad UTF-8', rawBinary(0x30, 0, new Uint8Array([0x22, 0xff, 0xfe, 0x22]))],
    ['bad JSON', rawBinary(0x30, 0, '{"a":')],
    ['empty payload', rawBinary(0x30, 0, '')],
    ['JSON array', rawBinary(0x30, 0, '[1,2]')],
    ['JSON null', rawBinary(0x30, 0, 'null')],
    ['JSON string', rawBinary(0x30, 0, '"x"')],
  ])('rejects %s with "Invalid message format"', (_name, frame) => {
    const parsed = parseFrame(frame)
    expect(parsed.ok).toBe(false)
    expect(!parsed.ok && parsed.error).toMatchObject(invalidFormat)
    expect(parsed.format).toBe('binary')
    expect(parsed.bytes).toBe(frame.length)
  })

  it('names the type when the code was readable', () => {
    const parsed = parseFrame(rawBinary(0x20, 0, '{oops'))
    expect(!parsed.ok && parsed.error.type).toBe('delta')
  })
})

describe('parseFrame: JSON', () => {
  it('parses a text frame; id and timestamp optional', () => {
    expect(parseFrame('{"type":"subscribe","documentId":"d"}')).toEqual({
      ok: true,
      type: 'subscribe',
      fields: { documentId: 'd' },
      timestamp: 0,
      format: 'json',
      bytes: 37,
    })
    expect(parseFrame('{"type":"ping","id":"i","timestamp":77}')).toMatchObject({
      ok: true,
      fields: { id: 'i' },
      timestamp: 77,
    })
  })

  it('treats bytes starting with { as a JSON frame', () => {
    const bytes = new TextEncoder().encode('{"type":"ping","timestamp":3}')
    expect(parseFrame(bytes)).toMatchObject({ ok: true, type: 'ping', timestamp: 3, format: 'json' })
  })

  it('flattens a nested payload object; payload keys win except type', () => {
    const parsed = parseFrame(
      '{"type":"delta","id":"1","documentId":"top","timestamp":5,"payload":{"type":"x","documentId":"inner","field":"f","value":1,"timestamp":9}}',
    )
    expect(parsed).toMatchObject({
      ok: true,
      type: 'delta',
      fields: { id: '1', documentId: 'inner', field: 'f', value: 1 },
      timestamp: 9,
    })
    expect(parsed.ok && Object.hasOwn(parsed.fields, 'payload')).toBe(false)
  })

  it('keeps a non-object payload as an ordinary field', () => {
    expect(parseFrame('{"type":"ping","payload":[1]}')).toMatchObject({ ok: true, fields: { payload: [1] } })
  })

  it('counts bytes in UTF-8', () => {
    const frame = '{"type":"ping","x":"日本"}'
    expect(parseFrame(frame).bytes).toBe(new TextEncoder().encode(frame).length)
  })

  it.each([
    ['not JSON', 'hello'],
    ['an array', '[{"type":"ping"}]'],
    ['null', 'null'],
    ['no type', '{"id":"x"}'],
    ['a numeric type', '{"type":1}'],
    ['an empty type', '{"type":""}'],
    ['empty text', ''],
  ])('rejects %s with "Invalid message format"', (_name, frame) => {
    const parsed = parseFrame(frame)
    expect(!parsed.ok && parsed.error).toMatchObject(invalidFormat)
    expect(parsed.format).toBe('json')
  })

  it('rejects { bytes that are not valid UTF-8', () => {
    const parsed = parseFrame(new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]))
    expect(!parsed.ok && parsed.error).toMatchObject(invalidFormat)
    expect(parsed.format).toBe('json')
  })
})

describe('parseFrame: size limit', () => {
  it('measures raw bytes and rejects before parsing', () => {
    const frame = rawBinary(0x30, 0, '{not even json')
    const parsed = parseFrame(frame, frame.length - 1)
    expect(!parsed.ok && parsed.error).toEqual({
      message: `Message too large (${frame.length} bytes, max ${frame.length - 1})`,
      code: 'INVALID_MESSAGE',
    })
    expect(parseFrame(frame, frame.length).ok).toBe(false) // at the limit: parsed, then invalid JSON
    expect(!parseFrame(frame, frame.length).ok && parseFrame(frame, frame.length)).toMatchObject({
      error: invalidFormat,
    })
  })

  it('counts a string in UTF-8 bytes', () => {
    const frame = `{"type":"ping","x":"${'é'.repeat(10)}"}` // 10 chars, 20 bytes
    const bytes = new TextEncoder().encode(frame).length
    expect(parseFrame(frame, bytes).ok).toBe(true)
    expect(parseFrame(frame, bytes - 1)).toMatchObject({
      ok: false,
      error: { message: `Message too large (${bytes} bytes, max ${bytes - 1})` },
      bytes,
    })
  })
})

describe('parseFrame: __proto__ keys', () => {
  it('keeps them as own data and never changes a prototype', () => {
    const json = '{"type":"delta","__proto__":{"polluted":true},"payload":{"__proto__":{"polluted2":true}}}'
    const parsed = parseFrame(json)
    expect(parsed.ok).toBe(true)
    if (!parsed.ok) return
    expect(Object.getPrototypeOf(parsed.fields)).toBe(Object.prototype)
    expect(Object.hasOwn(parsed.fields, '__proto__')).toBe(true)
    expect(Object.getOwnPropertyDescriptor(parsed.fields, '__proto__')?.value).toEqual({ polluted2: true })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(({} as Record<string, unknown>).polluted2).toBeUndefined()
    expect((parsed.fields as Record<string, unknown>).polluted2).toBeUndefined()

    const binary = parseFrame(encodeFrame('delta', JSON.parse('{"__proto__":{"p":1}}'), 0, 'binary'))
    expect(binary.ok && Object.getOwnPropertyDescriptor(binary.fields, '__proto__')?.value).toEqual({ p: 1 })
    expect(binary.ok && Object.getPrototypeOf(binary.fields)).toBe(Object.prototype)
  })
})

describe('parseFrame never throws on non-frames', () => {
  it('returns an error for values outside the declared input type', () => {
    for (const bad of [null, undefined, 42, {}, new ArrayBuffer(20), [1, 2, 3]]) {
      const parsed = parseFrame(bad as unknown as Uint8Array)
      expect(parsed.ok).toBe(false)
    }
  })
})

describe('hostile nesting', () => {
  it('refuses JSON nested deeper than MAX_JSON_DEPTH without throwing, in both formats', async () => {
    const { decodeClientFrame, encodeFrame, MAX_JSON_DEPTH } = await import('../../src/protocol/index.js')
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`
    const json = `{"type":"delta","documentId":"d","field":"f","value":${deep}}`
    const result = decodeClientFrame(json)
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.error.message).toBe('Invalid message format')
    let value: unknown = 1
    for (let i = 0; i < MAX_JSON_DEPTH; i++) value = [value]
    const binary = encodeFrame('delta', { documentId: 'd', field: 'f', value }, 1, 'binary')
    expect(decodeClientFrame(binary).ok).toBe(false)
    let shallow: unknown = 1
    for (let i = 0; i < MAX_JSON_DEPTH - 2; i++) shallow = [shallow]
    expect(
      decodeClientFrame(encodeFrame('delta', { documentId: 'd', field: 'f', value: shallow }, 1, 'binary'))
        .ok,
    ).toBe(true)
  })
})
