import { describe, expect, it } from 'vitest'
import {
  type DecodeResult,
  type DeltaBatchMessage,
  type DeltaMessage,
  decodeClientFrame,
  encodeFrame,
  MAX_BATCH_OPS,
} from '../../src/protocol/index.js'

/** A binary frame with a hand-written JSON payload (to keep payload `type`, `__proto__`, ...). */
function rawBinary(code: number, timestamp: number, payload: string): Uint8Array {
  const body = new TextEncoder().encode(payload)
  const frame = new Uint8Array(13 + body.length)
  const view = new DataView(frame.buffer)
  view.setUint8(0, code)
  view.setBigInt64(1, BigInt(timestamp))
  view.setUint32(9, body.length)
  frame.set(body, 13)
  return frame
}
const bin = (type: string, fields: Record<string, unknown>) => encodeFrame(type, fields, 100, 'binary')
function okAs<T>(r: DecodeResult): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.message}`)
  return r.message as T
}
const err = (r: DecodeResult) => {
  if (r.ok) throw new Error(`expected an error, got ${r.message.type}`)
  return r.error
}

describe('delta', () => {
  it('decodes the SDK 0.1.1 single-field frame (payload type "set" under code 0x20)', () => {
    const payload = {
      type: 'set',
      documentId: 'todo-1',
      field: 'title',
      value: 'Buy milk',
      clock: { 'client-a': 3 },
      clientId: 'client-a',
      timestamp: 1_700_000_000_000,
      messageId: 'msg-1',
    }
    const result = decodeClientFrame(rawBinary(0x20, 1_700_000_000_500, JSON.stringify(payload)))
    expect(okAs<DeltaMessage>(result)).toEqual({
      type: 'delta',
      timestamp: 1_700_000_000_000, // the payload's edit time overrides the header
      documentId: 'todo-1',
      writes: [{ field: 'title', value: 'Buy milk', deleted: false }],
      clock: { 'client-a': 3 },
      messageId: 'msg-1',
    })
  })

  it('decodes the second dialect {id, documentId, delta:{f:v}, vectorClock:{}}', () => {
    const result = decodeClientFrame(
      bin('delta', { id: 'd1', documentId: 'doc', delta: { a: 1, b: 'two', c: [3] }, vectorClock: {} }),
    )
    expect(okAs<DeltaMessage>(result)).toEqual({
      type: 'delta',
      id: 'd1',
      timestamp: 100,
      documentId: 'doc',
      writes: [
        { field: 'a', value: 1, deleted: false },
        { field: 'b', value: 'two', deleted: false },
        { field: 'c', value: [3], deleted: false },
      ],
      clock: {},
    })
  })

  it('turns tombstones into deletes and keeps null as a value', () => {
    const msg = okAs<DeltaMessage>(
      decodeClientFrame(bin('delta', { documentId: 'd', delta: { gone: { __deleted: true }, empty: null } })),
    )
    expect(msg.writes).toEqual([
      { field: 'gone', value: null, deleted: true },
      { field: 'empty', value: null, deleted: false },
    ])
    const single = okAs<DeltaMessage>(
      decodeClientFrame(bin('delta', { documentId: 'd', field: 'f', value: { __deleted: true } })),
    )
    expect(single.writes).toEqual([{ field: 'f', value: null, deleted: true }])
    const nullValue = okAs<DeltaMessage>(
      decodeClientFrame(bin('delta', { documentId: 'd', field: 'f', value: null })),
    )
    expect(nullValue.writes).toEqual([{ field: 'f', value: null, deleted: false }])
  })

  it('prefers vectorClock over clock, falls back when vectorClock is not an object, sanitises both', () => {
    const both = okAs<DeltaMessage>(
      decodeClientFrame(
        bin('delta', { documentId: 'd', field: 'f', value: 1, vectorClock: { a: 1 }, clock: { b: 2 } }),
      ),
    )
    expect(both.clock).toEqual({ a: 1 })
    const fallback = okAs<DeltaMessage>(
      decodeClientFrame(
        bin('delta', { documentId: 'd', field: 'f', value: 1, vectorClock: 7, clock: { b: 2 } }),
      ),
    )
    expect(fallback.clock).toEqual({ b: 2 })
    const dirty = okAs<DeltaMessage>(
      decodeClientFrame(
        bin('delta', {
          documentId: 'd',
          field: 'f',
          value: 1,
          clock: { neg: -3, f: 0.1, big: 2 ** 60, s: '9', ok: 9 },
        }),
      ),
    )
    expect(dirty.clock).toEqual({ ok: 9 })
    const none = okAs<DeltaMessage>(
      decodeClientFrame(bin('delta', { documentId: 'd', field: 'f', value: 1 })),
    )
    expect(none).not.toHaveProperty('clock')
  })

  it.each([
    ['neither shape', {}],
    ['an empty delta map', { delta: {} }],
    ['a delta array', { delta: [1] }],
    ['a delta string', { delta: 'x' }],
    ['a field without value', { field: 'f' }],
    ['a non-string field', { field: 3, value: 1 }],
    ['an empty field name', { field: '', value: 1 }],
    ['an empty key in the map', { delta: { '': 1 } }],
  ])('rejects %s with "Invalid delta message: missing or empty delta"', (_name, patch) => {
    expect(err(decodeClientFrame(bin('delta', { documentId: 'doc', ...patch })))).toEqual({
      message: 'Invalid delta message: missing or empty delta',
      code: 'INVALID_MESSAGE',
      type: 'delta',
      documentId: 'doc',
    })
  })

  it('treats a null delta as absent (falls back to field/value)', () => {
    const msg = okAs<DeltaMessage>(
      decodeClientFrame(bin('delta', { documentId: 'd', delta: null, field: 'f', value: 2 })),
    )
    expect(msg.writes).toEqual([{ field: 'f', value: 2, deleted: false }])
  })

  it('keeps a __proto__ field as plain data without polluting anything', () => {
    const frame = rawBinary(0x20, 1, '{"documentId":"d","delta":{"__proto__":{"isAdmin":true},"x":1}}')
    const msg = okAs<DeltaMessage>(decodeClientFrame(frame))
    expect(msg.writes).toEqual([
      { field: '__proto__', value: { isAdmin: true }, deleted: false },
      { field: 'x', value: 1, deleted: false },
    ])
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined()
    expect(Object.getPrototypeOf(msg)).toBe(Object.prototype)

    const single = okAs<DeltaMessage>(
      decodeClientFrame('{"type":"delta","documentId":"d","field":"__proto__","value":{"polluted":1}}'),
    )
    expect(single.writes).toEqual([{ field: '__proto__', value: { polluted: 1 }, deleted: false }])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})

describe('delta_batch', () => {
  const sdkSet = {
    type: 'set',
    documentId: 'doc',
    field: 'title',
    value: 'Hi',
    clock: { 'client-a': 2 },
    clientId: 'client-a',
    timestamp: 5,
  }
  const textState = {
    type: 'text-state',
    state: '{"fugue":1}',
    documentId: 'doc:text',
    clientId: 'client-a',
    timestamp: 6,
    clock: { 'client-a': 3 },
  }
  const counter = {
    type: 'counter',
    operation: 'increment',
    value: 2,
    documentId: 'doc',
    clientId: 'r1',
    timestamp: 7,
    clock: {},
  }
  const orSet = {
    type: 'set',
    operation: 'add',
    value: 'tag',
    documentId: 'doc',
    clientId: 'c',
    timestamp: 8,
    clock: {},
  }
  const richtext = {
    type: 'richtext',
    operation: 'format',
    documentId: 'doc',
    clientId: 'c',
    timestamp: 9,
    opId: 'o',
    start: 0,
    end: 3,
    attributes: { bold: true },
    clock: {},
  }
  const legacyText = { type: 'text', field: 'body', position: 3, insert: 'x', clientId: 'c' }

  it('classifies every op kind of docs/protocol.md §5.8 in order', () => {
    const msg = okAs<DeltaBatchMessage>(
      decodeClientFrame(
        bin('delta_batch', {
          documentId: 'doc',
          messageId: 'msg-1',
          deltas: [sdkSet, textState, counter, orSet, richtext, legacyText],
        }),
      ),
    )
    expect(msg).toEqual({
      type: 'delta_batch',
      timestamp: 100,
      documentId: 'doc',
      messageId: 'msg-1',
      ops: [
        {
          kind: 'field',
          field: 'title',
          value: 'Hi',
          deleted: false,
          clock: { 'client-a': 2 },
          clientId: 'client-a',
        },
        {
          // The op names `doc:text`; the sender may only write the batch's document (issue 10).
          kind: 'text-state',
          documentId: 'doc',
          clientId: 'client-a',
          state: '{"fugue":1}',
          raw: textState,
        },
        { kind: 'relay', raw: counter },
        { kind: 'relay', raw: orSet },
        { kind: 'relay', raw: richtext },
        { kind: 'relay', raw: legacyText },
      ],
    })
  })

  it('text-state: takes the batch document id whatever the op names, and is skipped without a string state', () => {
    const { documentId: _omit, ...noDoc } = textState
    const msg = okAs<DeltaBatchMessage>(
      decodeClientFrame(
        bin('delta_batch', {
          documentId: 'doc',
          deltas: [
            noDoc,
            { ...textState, documentId: 'bad id!' },
            { ...textState, state: 42 },
            { ...textState, state: '' },
            { type: 'text-state' },
          ],
        }),
      ),
    )
    expect(msg.ops).toHaveLength(2)
    expect(msg.ops[0]).toMatchObject({ kind: 'text-state', documentId: 'doc' })
    expect(msg.ops[1]).toMatchObject({ kind: 'text-state', documentId: 'doc' })
  })

  it('is valid with every op skipped', () => {
    const msg = okAs<DeltaBatchMessage>(
      decodeClientFrame(bin('delta_batch', { documentId: 'doc', deltas: [{ type: 'text-state' }] })),
    )
    expect(msg.ops).toEqual([])
  })

  it('field ops: tombstones, null, clock sanitising, optional clientId', () => {
    const msg = okAs<DeltaBatchMessage>(
      decodeClientFrame(
        bin('delta_batch', {
          documentId: 'doc',
          deltas: [
            { field: 'a', value: { __deleted: true } },
            { field: 'b', value: null, clock: { x: -1, y: 1.5, z: 1e16, w: 'w', ok: 4 }, clientId: 9 },
            { field: 'c', value: 0, clock: 'garbage' },
          ],
        }),
      ),
    )
    expect(msg.ops).toEqual([
      { kind: 'field', field: 'a', value: null, deleted: true },
      { kind: 'field', field: 'b', value: null, deleted: false, clock: { ok: 4 } },
      { kind: 'field', field: 'c', value: 0, deleted: false },
    ])
  })

  it.each([
    ['missing deltas', {}],
    ['empty deltas', { deltas: [] }],
    ['a deltas object', { deltas: { 0: sdkSet } }],
    ['a non-object op', { deltas: [sdkSet, 5] }],
    ['a null op', { deltas: [null] }],
    ['an array op', { deltas: [[sdkSet]] }],
  ])('rejects %s with "Invalid delta batch: missing or empty deltas array"', (_name, patch) => {
    expect(err(decodeClientFrame(bin('delta_batch', { documentId: 'doc', ...patch })))).toEqual({
      message: 'Invalid delta batch: missing or empty deltas array',
      code: 'INVALID_MESSAGE',
      type: 'delta_batch',
      documentId: 'doc',
    })
  })

  it('rejects a field op without value, naming its index', () => {
    const { value: _omit, ...noValue } = sdkSet
    expect(
      err(decodeClientFrame(bin('delta_batch', { documentId: 'doc', deltas: [sdkSet, noValue] }))),
    ).toEqual({
      message: 'Invalid delta batch: op 1 has no value',
      code: 'INVALID_MESSAGE',
      type: 'delta_batch',
      documentId: 'doc',
    })
  })

  it('rejects a field op whose field is not a non-empty string', () => {
    for (const field of ['', 3, null, {}]) {
      expect(
        err(decodeClientFrame(bin('delta_batch', { documentId: 'doc', deltas: [{ field, value: 1 }] }))),
      ).toEqual({
        message: 'Invalid delta batch: op 0 has an invalid field',
        code: 'INVALID_MESSAGE',
        type: 'delta_batch',
        documentId: 'doc',
      })
    }
  })

  it(`caps a batch at ${MAX_BATCH_OPS} ops`, () => {
    const op = { field: 'f', value: 1 }
    const atCap = decodeClientFrame(
      bin('delta_batch', { documentId: 'd', deltas: new Array(MAX_BATCH_OPS).fill(op) }),
    )
    expect(okAs<DeltaBatchMessage>(atCap).ops).toHaveLength(MAX_BATCH_OPS)
    const over = decodeClientFrame(
      bin('delta_batch', { documentId: 'd', deltas: new Array(MAX_BATCH_OPS + 1).fill(op) }),
    )
    expect(err(over)).toEqual({
      message: 'Invalid delta batch: too many operations (max 10000)',
      code: 'INVALID_MESSAGE',
      type: 'delta_batch',
      documentId: 'd',
    })
  })

  it('keeps __proto__ inside ops as data', () => {
    const frame = rawBinary(
      0x50,
      1,
      '{"documentId":"d","deltas":[{"field":"__proto__","value":{"polluted":true}},{"type":"counter","__proto__":{"polluted":true}}]}',
    )
    const msg = okAs<DeltaBatchMessage>(decodeClientFrame(frame))
    expect(msg.ops[0]).toEqual({
      kind: 'field',
      field: '__proto__',
      value: { polluted: true },
      deleted: false,
    })
    expect(msg.ops[1]?.kind).toBe('relay')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})
