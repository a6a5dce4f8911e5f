import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type CodedMessageType,
  decodeClientFrame,
  decodeServerFrame,
  encodeFrame,
  encodeServerMessage,
  type JsonObject,
  type JsonValue,
  MESSAGE_TYPE_CODES,
  parseFrame,
  type ServerMessage,
  utf8Length,
} from '../../src/protocol/index.js'

const RUNS = 1000
const codedTypes = Object.keys(MESSAGE_TYPE_CODES) as CodedMessageType[]
/** JSON.stringify/parse normalisation (-0 becomes 0), what any JSON round trip yields. */
const viaJson = <T>(value: T): T => JSON.parse(JSON.stringify(value))

// Any JSON object except the keys the envelope owns (and `payload`, which JSON frames flatten).
const fieldsArb = fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 }).map((fields) => {
  const out: Record<string, unknown> = { ...fields }
  delete out.type
  delete out.timestamp
  delete out.payload
  return out
})
const timestampArb = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER })

describe('encodeFrame -> parseFrame', () => {
  it.each(['binary', 'json'] as const)(
    'round-trips every coded type with arbitrary payloads (%s)',
    (format) => {
      fc.assert(
        fc.property(fc.constantFrom(...codedTypes), fieldsArb, timestampArb, (type, fields, timestamp) => {
          const frame = encodeFrame(type, fields, timestamp, format)
          const parsed = parseFrame(frame)
          expect(parsed).toEqual({
            ok: true,
            type,
            fields: viaJson(fields),
            timestamp,
            format,
            bytes: typeof frame === 'string' ? utf8Length(frame) : frame.length,
          })
        }),
        { numRuns: RUNS },
      )
    },
  )
})

describe('decodeClientFrame never throws', () => {
  it('on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const result = decodeClientFrame(bytes)
        expect(result.bytes).toBe(bytes.length)
      }),
      { numRuns: RUNS },
    )
  })

  it('on arbitrary strings, including JSON-ish ones', () => {
    const jsonish = fc.oneof(
      fc.string({ unit: 'grapheme' }),
      fc.json(),
      fc.jsonValue().map((v) => JSON.stringify({ type: 'delta', documentId: 'd', payload: v, delta: v })),
    )
    fc.assert(
      fc.property(jsonish, (text) => {
        expect(typeof decodeClientFrame(text).ok).toBe('boolean')
      }),
      { numRuns: RUNS },
    )
  })

  it('on binary frames with a valid header and random payload', () => {
    const payload = fc.oneof(
      fc.uint8Array({ maxLength: 120 }),
      fc.jsonValue().map((v) => new TextEncoder().encode(JSON.stringify(v))),
    )
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.values(MESSAGE_TYPE_CODES)),
        timestampArb,
        payload,
        fc.integer({ min: -4, max: 4 }),
        (code, timestamp, body, skew) => {
          const frame = new Uint8Array(13 + body.length)
          const view = new DataView(frame.buffer)
          view.setUint8(0, code)
          view.setBigInt64(1, BigInt(timestamp))
          view.setUint32(9, Math.max(0, body.length + skew))
          frame.set(body, 13)
          const result = decodeClientFrame(frame)
          expect(result.bytes).toBe(frame.length)
        },
      ),
      { numRuns: RUNS },
    )
  })

  it('on well-formed frames of every client type with arbitrary field values', () => {
    const clientTypes = [
      'auth',
      'subscribe',
      'unsubscribe',
      'sync_request',
      'sync_step1',
      'delta',
      'delta_batch',
      'delta_batch_chunk',
      'ack',
      'ping',
      'pong',
      'awareness_subscribe',
      'awareness_update',
    ]
    const value = fc.jsonValue({ maxDepth: 2 })
    const fieldsOf = fc.record(
      {
        documentId: fc.oneof(fc.constant('doc'), value),
        delta: value,
        deltas: fc.oneof(fc.array(value), fc.array(fc.dictionary(fc.string(), value))),
        field: fc.oneof(fc.string(), value),
        value,
        clock: value,
        vectorClock: value,
        stateVector: value,
        clientId: value,
        state: value,
        chunkId: value,
        totalChunks: value,
        chunkIndex: value,
        data: value,
      },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(fc.constantFrom(...clientTypes), fieldsOf, fc.boolean(), (type, fields, json) => {
        const result = decodeClientFrame(encodeFrame(type, fields, 0, json ? 'json' : 'binary'))
        if (!result.ok) expect(result.error.code).toMatch(/^INVALID_/)
      }),
      { numRuns: RUNS },
    )
  })
})

describe('encodeServerMessage -> decodeServerFrame', () => {
  // fast-check types object members as optional; its values are plain JSON all the same.
  const json = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<JsonValue>
  const obj = fc.dictionary(fc.string(), json, { maxKeys: 5 }) as fc.Arbitrary<JsonObject>
  const clock = fc.dictionary(fc.string(), fc.nat())
  const env = { id: fc.string(), timestamp: timestampArb }
  const t = <T extends string>(type: T) => fc.constant(type)

  const variants: Record<ServerMessage['type'], fc.Arbitrary<ServerMessage>> = {
    auth_success: fc.record(
      {
        type: t('auth_success'),
        ...env,
        userId: fc.string(),
        permissions: fc.record({
          canRead: fc.array(fc.string()),
          canWrite: fc.array(fc.string()),
          isAdmin: fc.boolean(),
        }),
      },
      { requiredKeys: ['type', 'id', 'timestamp', 'userId'] },
    ),
    auth_error: fc.record(
      { type: t('auth_error'), ...env, error: fc.string(), details: obj },
      { requiredKeys: ['type', 'id', 'timestamp', 'error'] },
    ),
    sync_response: fc.record(
      {
        type: t('sync_response'),
        ...env,
        requestId: fc.string(),
        documentId: fc.string(),
        state: obj,
        clock,
        deltas: fc.array(obj, { maxLength: 3 }),
        textState: fc.string(),
        textClock: fc.nat(),
      },
      { requiredKeys: ['type', 'id', 'timestamp', 'requestId', 'documentId', 'state', 'clock', 'deltas'] },
    ),
    sync_step2: fc.record({
      type: t('sync_step2'),
      ...env,
      documentId: fc.string(),
      operations: fc.array(obj),
    }),
    delta: fc.record({
      type: t('delta'),
      ...env,
      documentId: fc.string(),
      field: fc.string(),
      value: json,
      clock,
      clientId: t('server'),
    }),
    delta_batch: fc.record(
      {
        type: t('delta_batch'),
        ...env,
        documentId: fc.string(),
        deltas: fc.array(obj),
        isTextOperation: fc.boolean(),
      },
      { requiredKeys: ['type', 'id', 'timestamp', 'documentId', 'deltas'] },
    ),
    ack: fc.record({ type: t('ack'), ...env, messageId: fc.string() }),
    ping: fc.record({ type: t('ping'), ...env }),
    pong: fc.record({ type: t('pong'), ...env }),
    awareness_state: fc.record({
      type: t('awareness_state'),
      ...env,
      documentId: fc.string(),
      states: fc.array(
        fc.record({ clientId: fc.string(), state: fc.option(obj, { nil: null }), clock: fc.nat() }),
      ),
    }),
    awareness_update: fc.record({
      type: t('awareness_update'),
      ...env,
      documentId: fc.string(),
      clientId: fc.string(),
      state: fc.option(obj, { nil: null }),
      clock: fc.nat(),
    }),
    error: fc.record(
      { type: t('error'), ...env, error: fc.string(), details: obj },
      { requiredKeys: ['type', 'id', 'timestamp', 'error'] },
    ),
  }

  it.each(Object.entries(variants))('round-trips %s in both formats', (_type, arb) => {
    fc.assert(
      fc.property(arb, fc.constantFrom('binary' as const, 'json' as const), (message, format) => {
        expect(decodeServerFrame(encodeServerMessage(message, format))).toEqual({
          ok: true,
          message: viaJson(message),
          format,
        })
      }),
      { numRuns: RUNS },
    )
  })

  it('decodeServerFrame never throws on arbitrary bytes or strings', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 100 }), fc.string(), fc.json()), (frame) => {
        expect(typeof decodeServerFrame(frame).ok).toBe('boolean')
      }),
      { numRuns: RUNS },
    )
  })
})
