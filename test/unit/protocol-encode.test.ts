import { describe, expect, it } from 'vitest'
import { encodeFrame, encodeServerMessage, type ServerMessage } from '../../src/protocol/index.js'

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

describe('encodeFrame (binary)', () => {
  it('writes the 13-byte header byte by byte', () => {
    const frame = encodeFrame('delta', { id: 'm1', documentId: 'd' }, 0x0102030405, 'binary') as Uint8Array
    const payload = '{"id":"m1","documentId":"d"}'
    expect(Array.from(frame.subarray(0, 13))).toEqual([
      0x20, // type code
      0x00,
      0x00,
      0x00,
      0x01,
      0x02,
      0x03,
      0x04,
      0x05, // int64 BE timestamp
      0x00,
      0x00,
      0x00,
      payload.length, // uint32 BE payload length
    ])
    expect(text(frame.subarray(13))).toBe(payload)
    expect(frame.length).toBe(13 + payload.length)
  })

  it('encodes a real millisecond timestamp and a negative one as int64 big-endian', () => {
    const now = 1_700_000_000_123
    const view = (f: Uint8Array) => new DataView(f.buffer, f.byteOffset, f.byteLength)
    const a = encodeFrame('ping', {}, now, 'binary') as Uint8Array
    expect(view(a).getBigInt64(1)).toBe(BigInt(now))
    const b = encodeFrame('ping', {}, -2, 'binary') as Uint8Array
    expect(view(b).getBigInt64(1)).toBe(-2n)
    expect(Array.from(b.subarray(1, 9))).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe])
  })

  it('leaves type and timestamp out of the payload but keeps id', () => {
    const frame = encodeFrame(
      'ack',
      { type: 'x', timestamp: 5, id: 'a', messageId: 'm' },
      9,
      'binary',
    ) as Uint8Array
    expect(JSON.parse(text(frame.subarray(13)))).toEqual({ id: 'a', messageId: 'm' })
    expect(frame[0]).toBe(0x21)
  })

  it('measures the payload length in UTF-8 bytes, not UTF-16 units', () => {
    const frame = encodeFrame('delta', { value: 'é😀' }, 0, 'binary') as Uint8Array
    const payload = new TextEncoder().encode('{"value":"é😀"}')
    expect(new DataView(frame.buffer).getUint32(9)).toBe(payload.length)
    expect(Array.from(frame.subarray(13))).toEqual(Array.from(payload))
  })

  it('omits undefined keys', () => {
    const frame = encodeFrame('ack', { id: 'a', messageId: undefined }, 0, 'binary') as Uint8Array
    expect(text(frame.subarray(13))).toBe('{"id":"a"}')
  })

  it('throws a TypeError for a type without a binary code', () => {
    expect(() => encodeFrame('connect', {}, 0, 'binary')).toThrow(TypeError)
    expect(() => encodeFrame('nope', {}, 0, 'binary')).toThrow(TypeError)
  })
})

describe('encodeFrame (json)', () => {
  it('produces one object with type, fields and timestamp', () => {
    const frame = encodeFrame('subscribe', { id: 's', documentId: 'd' }, 42, 'json')
    expect(typeof frame).toBe('string')
    expect(JSON.parse(frame as string)).toEqual({
      type: 'subscribe',
      id: 's',
      documentId: 'd',
      timestamp: 42,
    })
  })
  it('lets the arguments win over type/timestamp keys in fields, and accepts any type name', () => {
    const frame = encodeFrame('connect', { type: 'evil', timestamp: 1, a: undefined }, 2, 'json')
    expect(JSON.parse(frame as string)).toEqual({ type: 'connect', timestamp: 2 })
  })
  it('keeps a __proto__ field as data', () => {
    const fields = JSON.parse('{"__proto__": {"polluted": true}}')
    const frame = encodeFrame('delta', fields, 0, 'json') as string
    expect(frame).toBe('{"type":"delta","__proto__":{"polluted":true},"timestamp":0}')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})

describe('encodeServerMessage', () => {
  const delta: ServerMessage = {
    type: 'delta',
    id: 'srv-1',
    timestamp: 1_700_000_000_000,
    documentId: 'doc',
    field: 'title',
    value: 'hé',
    clock: { server: 3 },
    clientId: 'server',
  }

  it('binary: header from type/timestamp, payload is the rest including id', () => {
    const frame = encodeServerMessage(delta, 'binary') as Uint8Array
    expect(frame[0]).toBe(0x20)
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
    expect(Number(view.getBigInt64(1))).toBe(1_700_000_000_000)
    expect(view.getUint32(9)).toBe(frame.length - 13)
    expect(JSON.parse(text(frame.subarray(13)))).toEqual({
      id: 'srv-1',
      documentId: 'doc',
      field: 'title',
      value: 'hé',
      clock: { server: 3 },
      clientId: 'server',
    })
  })

  it('json: the message itself', () => {
    expect(JSON.parse(encodeServerMessage(delta, 'json') as string)).toEqual(delta)
  })

  it('drops undefined optional keys', () => {
    const error: ServerMessage = { type: 'error', id: 'e', timestamp: 0, error: 'x', details: undefined }
    expect(encodeServerMessage(error, 'json')).toBe('{"type":"error","id":"e","timestamp":0,"error":"x"}')
    expect(text((encodeServerMessage(error, 'binary') as Uint8Array).subarray(13))).toBe(
      '{"id":"e","error":"x"}',
    )
  })

  it('is byte-identical to encodeFrame', () => {
    const { type, timestamp, ...fields } = delta
    expect(encodeServerMessage(delta, 'binary')).toEqual(encodeFrame(type, fields, timestamp, 'binary'))
  })
})
