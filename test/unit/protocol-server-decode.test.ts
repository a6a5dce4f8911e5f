import { describe, expect, it } from 'vitest'
import {
  decodeServerFrame,
  encodeFrame,
  encodeServerMessage,
  type ServerMessage,
} from '../../src/protocol/index.js'

const env = { id: 's1', timestamp: 1_700_000_000_000 }

describe('decodeServerFrame', () => {
  const samples: ServerMessage[] = [
    {
      type: 'auth_success',
      ...env,
      userId: 'u',
      permissions: { canRead: ['*'], canWrite: [], isAdmin: false },
    },
    { type: 'auth_success', ...env, userId: 'u' },
    { type: 'auth_error', ...env, error: 'Authentication failed' },
    {
      type: 'sync_response',
      ...env,
      requestId: 'r',
      documentId: 'd',
      state: { a: 1 },
      clock: { server: 4 },
      deltas: [],
      textState: '{}',
      textClock: 2,
    },
    { type: 'sync_step2', ...env, documentId: 'd', operations: [] },
    {
      type: 'delta',
      ...env,
      documentId: 'd',
      field: 'f',
      value: null,
      clock: { server: 1 },
      clientId: 'server',
    },
    {
      type: 'delta_batch',
      ...env,
      documentId: 'd',
      deltas: [{ type: 'text-state', state: 's' }],
      isTextOperation: true,
    },
    { type: 'ack', ...env, messageId: 'm' },
    { type: 'ping', ...env },
    { type: 'pong', ...env },
    { type: 'awareness_state', ...env, documentId: 'd', states: [{ clientId: 'c', state: null, clock: 1 }] },
    { type: 'awareness_update', ...env, documentId: 'd', clientId: 'c', state: { x: 1 }, clock: 3 },
    { type: 'error', ...env, error: 'Permission denied', details: { documentId: 'd' } },
  ]

  it.each(samples.map((m) => [m.type, m] as const))('round-trips %s in both formats', (_type, message) => {
    for (const format of ['binary', 'json'] as const) {
      expect(decodeServerFrame(encodeServerMessage(message, format))).toEqual({ ok: true, message, format })
    }
  })

  it('sets a missing id to "" and defaults clock/deltas of a sync_response (C# omits them)', () => {
    const frame = encodeFrame('sync_response', { requestId: 'r', documentId: 'd', state: {} }, 5, 'binary')
    expect(decodeServerFrame(frame)).toEqual({
      ok: true,
      format: 'binary',
      message: {
        type: 'sync_response',
        id: '',
        timestamp: 5,
        requestId: 'r',
        documentId: 'd',
        state: {},
        clock: {},
        deltas: [],
      },
    })
  })

  it.each([
    ['a client-only type', 'subscribe', { documentId: 'd' }, 'Invalid message type: subscribe'],
    ['a missing userId', 'auth_success', {}, 'Invalid message format'],
    [
      'bad permissions',
      'auth_success',
      { userId: 'u', permissions: { canRead: [1], canWrite: [], isAdmin: false } },
      'Invalid message format',
    ],
    [
      'a delta without clock',
      'delta',
      { documentId: 'd', field: 'f', value: 1, clientId: 'server' },
      'Invalid message format',
    ],
    [
      'a delta without value',
      'delta',
      { documentId: 'd', field: 'f', clock: {}, clientId: 'server' },
      'Invalid message format',
    ],
    [
      'a non-server delta',
      'delta',
      { documentId: 'd', field: 'f', value: 1, clock: {}, clientId: 'x' },
      'Invalid message format',
    ],
    [
      'a string clock entry',
      'delta',
      { documentId: 'd', field: 'f', value: 1, clock: { a: '1' }, clientId: 'server' },
      'Invalid message format',
    ],
    [
      'a non-boolean isTextOperation',
      'delta_batch',
      { documentId: 'd', deltas: [], isTextOperation: 1 },
      'Invalid message format',
    ],
    ['a non-object op', 'delta_batch', { documentId: 'd', deltas: [1] }, 'Invalid message format'],
    ['an ack without messageId', 'ack', {}, 'Invalid message format'],
    [
      'a bad awareness entry',
      'awareness_state',
      { documentId: 'd', states: [{ clientId: 'c', state: 1, clock: 1 }] },
      'Invalid message format',
    ],
    ['an error without text', 'error', { details: {} }, 'Invalid message format'],
  ])('rejects %s', (_name, type, fields, message) => {
    const result = decodeServerFrame(encodeFrame(type, fields, 0, 'binary'))
    expect(result).toEqual({ ok: false, error: { message, code: 'INVALID_MESSAGE', type } })
  })

  it('passes frame errors through', () => {
    expect(decodeServerFrame(new Uint8Array([0xff]))).toEqual({
      ok: false,
      error: { message: 'Invalid message format', code: 'INVALID_MESSAGE' },
    })
  })

  it('tolerates C#-style payload type/timestamp keys', () => {
    const body = new TextEncoder().encode('{"type":"Pong","timestamp":9,"id":"x"}')
    const frame = new Uint8Array(13 + body.length)
    frame[0] = 0x31
    new DataView(frame.buffer).setUint32(9, body.length)
    frame.set(body, 13)
    expect(decodeServerFrame(frame)).toEqual({
      ok: true,
      format: 'binary',
      message: { type: 'pong', id: 'x', timestamp: 9 },
    })
  })
})
