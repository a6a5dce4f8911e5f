import { describe, expect, it } from 'vitest'
import {
  type ClientMessage,
  DEFAULT_MAX_FRAME_BYTES,
  type DecodeResult,
  decodeClientFrame,
  encodeFrame,
  validateClientMessage,
} from '../../src/protocol/index.js'

const bin = (type: string, fields: Record<string, unknown>, ts = 100) =>
  encodeFrame(type, fields, ts, 'binary')
const ok = (r: DecodeResult): ClientMessage => {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.message}`)
  return r.message
}
const err = (r: DecodeResult) => {
  if (r.ok) throw new Error(`expected an error, got ${r.message.type}`)
  return r.error
}

describe('decodeClientFrame: envelope', () => {
  it('reports format and raw bytes', () => {
    const frame = bin('ping', {}) as Uint8Array
    expect(decodeClientFrame(frame)).toEqual({
      ok: true,
      message: { type: 'ping', timestamp: 100 },
      format: 'binary',
      bytes: frame.length,
    })
    expect(decodeClientFrame('{"type":"pong","id":"p"}')).toMatchObject({
      ok: true,
      message: { type: 'pong', id: 'p', timestamp: 0 },
      format: 'json',
    })
  })

  it('keeps a string id, drops a non-string or empty one', () => {
    expect(ok(decodeClientFrame(bin('ping', { id: 'abc' })))).toEqual({
      type: 'ping',
      id: 'abc',
      timestamp: 100,
    })
    expect(ok(decodeClientFrame(bin('ping', { id: 7 })))).toEqual({ type: 'ping', timestamp: 100 })
    expect(ok(decodeClientFrame(bin('ping', { id: '' })))).toEqual({ type: 'ping', timestamp: 100 })
  })

  it('applies the default 1 MiB limit and an explicit one on raw bytes', () => {
    expect(DEFAULT_MAX_FRAME_BYTES).toBe(1_048_576)
    const big = bin('ping', { pad: 'x'.repeat(DEFAULT_MAX_FRAME_BYTES) }) as Uint8Array
    expect(err(decodeClientFrame(big))).toEqual({
      message: `Message too large (${big.length} bytes, max 1048576)`,
      code: 'INVALID_MESSAGE',
    })
    const small = bin('ping', {}) as Uint8Array
    expect(err(decodeClientFrame(small, { maxFrameBytes: 10 })).message).toBe(
      `Message too large (${small.length} bytes, max 10)`,
    )
  })

  it('passes parse errors through', () => {
    expect(decodeClientFrame(new Uint8Array([1, 2, 3]))).toEqual({
      ok: false,
      error: { message: 'Invalid message format', code: 'INVALID_MESSAGE' },
      format: 'binary',
      bytes: 3,
    })
  })
})

describe('message types', () => {
  it('rejects unknown and server-only types with "Invalid message type: <type>"', () => {
    for (const type of ['sync_response', 'auth_success', 'awareness_state', 'error', 'hello']) {
      expect(err(decodeClientFrame(JSON.stringify({ type })))).toEqual({
        message: `Invalid message type: ${type}`,
        code: 'INVALID_MESSAGE',
        type,
      })
    }
    // server-only types that have a binary code are refused the same way
    expect(err(decodeClientFrame(bin('sync_response', {}))).message).toBe(
      'Invalid message type: sync_response',
    )
  })

  it('does not echo an unbounded type name', () => {
    const type = 'x'.repeat(1000)
    expect(err(decodeClientFrame(JSON.stringify({ type }))).message).toBe(
      `Invalid message type: ${'x'.repeat(128)}…`,
    )
  })

  it('accepts connect, ping, pong with no fields', () => {
    for (const type of ['connect', 'ping', 'pong']) {
      expect(ok(decodeClientFrame(JSON.stringify({ type, id: 'i', timestamp: 3, junk: 1 })))).toEqual({
        type,
        id: 'i',
        timestamp: 3,
      })
    }
  })

  it('auth: token and apiKey kept only when strings', () => {
    expect(ok(decodeClientFrame(bin('auth', { id: 'a', token: 't', apiKey: 'k' })))).toEqual({
      type: 'auth',
      id: 'a',
      timestamp: 100,
      token: 't',
      apiKey: 'k',
    })
    expect(ok(decodeClientFrame(bin('auth', { token: 5, apiKey: null })))).toEqual({
      type: 'auth',
      timestamp: 100,
    })
  })

  it('ack: messageId optional string', () => {
    expect(ok(decodeClientFrame(bin('ack', { id: 'a', messageId: 'm' })))).toEqual({
      type: 'ack',
      id: 'a',
      timestamp: 100,
      messageId: 'm',
    })
    expect(ok(decodeClientFrame(bin('ack', { messageId: 3 })))).toEqual({ type: 'ack', timestamp: 100 })
  })

  it('subscribe / unsubscribe / awareness_subscribe carry the document id', () => {
    for (const type of ['subscribe', 'unsubscribe', 'awareness_subscribe']) {
      expect(ok(decodeClientFrame(bin(type, { documentId: 'todo-1' })))).toEqual({
        type,
        timestamp: 100,
        documentId: 'todo-1',
      })
    }
  })

  it('snapshot_request / snapshot_upload pass validation (documentId kept only if valid)', () => {
    expect(ok(decodeClientFrame('{"type":"snapshot_request","documentId":"d"}'))).toEqual({
      type: 'snapshot_request',
      timestamp: 0,
      documentId: 'd',
    })
    expect(ok(decodeClientFrame('{"type":"snapshot_upload","documentId":"a b"}'))).toEqual({
      type: 'snapshot_upload',
      timestamp: 0,
    })
  })
})

describe('document ids', () => {
  const docTypes = [
    'subscribe',
    'unsubscribe',
    'sync_request',
    'sync_step1',
    'delta',
    'delta_batch',
    'awareness_subscribe',
    'awareness_update',
  ]
  it.each(docTypes)('%s validates documentId with INVALID_DOCUMENT_ID', (type) => {
    const cases: [unknown, string][] = [
      [undefined, 'Invalid document ID'],
      ['', 'Invalid document ID'],
      [12, 'Invalid document ID'],
      ['x'.repeat(257), 'Document ID too long'],
      ['has space', 'Document ID contains invalid characters'],
    ]
    for (const [documentId, message] of cases) {
      expect(err(decodeClientFrame(bin(type, { documentId })))).toEqual({
        message,
        code: 'INVALID_DOCUMENT_ID',
        type,
      })
    }
  })
})

describe('sync_request / sync_step1', () => {
  it('sync_request: vectorClock optional and sanitised', () => {
    expect(ok(decodeClientFrame(bin('sync_request', { id: 'r1', documentId: 'd' })))).toEqual({
      type: 'sync_request',
      id: 'r1',
      timestamp: 100,
      documentId: 'd',
    })
    expect(
      ok(decodeClientFrame(bin('sync_request', { documentId: 'd', vectorClock: { x: 1e15, y: 2, z: -1 } }))),
    ).toMatchObject({ vectorClock: { y: 2 } })
    expect(
      ok(decodeClientFrame(bin('sync_request', { documentId: 'd', vectorClock: 'nope' }))),
    ).not.toHaveProperty('vectorClock')
  })

  it('sync_step1: a missing or non-object stateVector is {}', () => {
    expect(ok(decodeClientFrame(bin('sync_step1', { documentId: 'd' })))).toEqual({
      type: 'sync_step1',
      timestamp: 100,
      documentId: 'd',
      stateVector: {},
    })
    expect(ok(decodeClientFrame(bin('sync_step1', { documentId: 'd', stateVector: [1] })))).toMatchObject({
      stateVector: {},
    })
    expect(
      ok(decodeClientFrame(bin('sync_step1', { documentId: 'd', stateVector: { a: 3, b: 0.5 } }))),
    ).toMatchObject({ stateVector: { a: 3 } })
  })
})

describe('awareness_update', () => {
  const base = { documentId: 'd', clientId: 'c1', state: { cursor: 3 }, clock: 4 }
  it('accepts an object or null state', () => {
    expect(ok(decodeClientFrame(bin('awareness_update', base)))).toEqual({
      type: 'awareness_update',
      timestamp: 100,
      ...base,
    })
    expect(ok(decodeClientFrame(bin('awareness_update', { ...base, state: null })))).toMatchObject({
      state: null,
    })
  })
  it.each([
    ['missing clientId', { clientId: undefined }],
    ['empty clientId', { clientId: '' }],
    ['numeric clientId', { clientId: 3 }],
    ['missing clock', { clock: undefined }],
    ['negative clock', { clock: -1 }],
    ['fractional clock', { clock: 1.5 }],
    ['string clock', { clock: '1' }],
    ['missing state', { state: undefined }],
    ['array state', { state: [] }],
    ['string state', { state: 'here' }],
  ])('rejects %s with "Invalid awareness state format"', (_name, patch) => {
    expect(err(decodeClientFrame(bin('awareness_update', { ...base, ...patch })))).toEqual({
      message: 'Invalid awareness state format',
      code: 'INVALID_MESSAGE',
      type: 'awareness_update',
      documentId: 'd',
    })
  })
})

describe('delta_batch_chunk', () => {
  const base = { chunkId: 'c', totalChunks: 2, chunkIndex: 1, data: 'e30=' }
  it('accepts a well-formed chunk', () => {
    expect(ok(decodeClientFrame(bin('delta_batch_chunk', { id: 'i', ...base })))).toEqual({
      type: 'delta_batch_chunk',
      id: 'i',
      timestamp: 100,
      ...base,
    })
  })
  it.each([
    ['empty chunkId', { chunkId: '' }],
    ['numeric chunkId', { chunkId: 1 }],
    ['zero totalChunks', { totalChunks: 0 }],
    ['fractional totalChunks', { totalChunks: 1.5 }],
    ['chunkIndex = totalChunks', { chunkIndex: 2 }],
    ['negative chunkIndex', { chunkIndex: -1 }],
    ['missing data', { data: undefined }],
    ['numeric data', { data: 5 }],
  ])('rejects %s with "Invalid message format"', (_name, patch) => {
    expect(err(decodeClientFrame(bin('delta_batch_chunk', { ...base, ...patch })))).toEqual({
      message: 'Invalid message format',
      code: 'INVALID_MESSAGE',
      type: 'delta_batch_chunk',
    })
  })
})

describe('validateClientMessage called directly', () => {
  it('uses the given envelope and ignores inherited members', () => {
    const fields = Object.create({ documentId: 'inherited' }) as Record<string, unknown>
    expect(validateClientMessage('subscribe', fields, { timestamp: 1 })).toEqual({
      ok: false,
      error: { message: 'Invalid document ID', code: 'INVALID_DOCUMENT_ID', type: 'subscribe' },
    })
    expect(validateClientMessage('ping', {}, { id: 'x', timestamp: 9 })).toEqual({
      ok: true,
      message: { type: 'ping', id: 'x', timestamp: 9 },
    })
  })
  it('rejects values that are not JSON', () => {
    const r = validateClientMessage(
      'delta',
      { documentId: 'd', field: 'f', value: () => 1 },
      { timestamp: 0 },
    )
    expect(r.ok).toBe(false)
  })
})
