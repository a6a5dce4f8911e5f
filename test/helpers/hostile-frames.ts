/**
 * What the hostile connection of test/property/engine-security.test.ts sends: valid and invalid
 * frames of every kind, aimed at the documents and client ids of the honest world (see
 * hostile-world.ts). Every op and presence state the hostile makes carries `h: 1`, and its
 * strings never contain `:`, so an honest value (`alice:<doc>:<n>`) can never be mistaken for one.
 */
import fc from 'fast-check'
import { encodeBase64, encodeFrame } from '../../src/protocol/index.js'
import type { JsonObject, WireFormat } from '../../src/protocol/types.js'

type Arb<T> = fc.Arbitrary<T>
export type Frame = string | Uint8Array

/** Documents of the world, and ids no policy mentions (one of them invalid). */
export const WORLD_DOCS = ['open', 'read', 'drop', 'secret'] as const
export type WorldDoc = (typeof WORLD_DOCS)[number]
const OTHER_DOCS = ['elsewhere', 'bad id!']

/** Client ids the honest world and the remote node use, and the server's. */
export const PROTECTED_CLIENT_IDS = ['alice-p', 'bob-p', 'alice-t', 'bob-t', 'carol-p', 'server'] as const

const text: Arb<string> = fc.string({
  unit: fc.constantFrom('a', 'b', 'z', '0', '-', ' ', 'é'),
  maxLength: 12,
})

const documentId: Arb<string> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...WORLD_DOCS) },
  { weight: 1, arbitrary: fc.constantFrom(...OTHER_DOCS) },
)

/** The hostile's own few ids (reused, so updates and leaves meet), and valid ones of others. */
export const validClientId: Arb<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...PROTECTED_CLIENT_IDS) },
  { weight: 4, arbitrary: fc.constantFrom('m-1', 'm-2', 'm-3') },
  { weight: 1, arbitrary: text.map((s) => `m-${s}`) },
  { weight: 2, arbitrary: fc.constantFrom(...[1, 2, 3].map((n) => `${'L'.repeat(127)}${n}`)) },
)

export const clientId: Arb<string> = fc.oneof(
  { weight: 8, arbitrary: validClientId },
  { weight: 1, arbitrary: fc.integer({ min: 129, max: 600 }).map((n) => `L${'l'.repeat(n - 1)}`) },
  { weight: 1, arbitrary: fc.constant('') },
)

/** Clocks around every bound: small steps, jumps past the step limit, the validator's cap and past it. */
const clock: Arb<number> = fc.oneof(
  { weight: 3, arbitrary: fc.nat({ max: 8 }) },
  { weight: 2, arbitrary: fc.constantFrom(1_005, 2_010, 3_100, 500_000) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 5_000 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(2 ** 48 - 1, 2 ** 48, 2 ** 48 + 1, Number.MAX_SAFE_INTEGER, -1, 1.5),
  },
)

const value: Arb<unknown> = fc.oneof(
  text,
  fc.integer(),
  fc.constant(null),
  fc.constant({ __deleted: true }),
  fc.dictionary(text, text, { maxKeys: 2 }),
  fc.integer({ min: 200, max: 1_500 }).map((n) => 'v'.repeat(n)),
)
const field: Arb<string> = fc.constantFrom('a', 'b', 'locked', 'secret', 'x', '__proto__')
const vectorClock: Arb<Record<string, number>> = fc.dictionary(fc.constantFrom('m', 'node-a', 'x'), clock, {
  maxKeys: 2,
})
export const presenceState: Arb<JsonObject | null> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 3, arbitrary: text.map((s) => ({ h: 1, name: s })) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 400 }).map((n) => ({ h: 1, pad: 'p'.repeat(n) })) },
)

const optional = <T>(arb: Arb<T>): Arb<T | undefined> => fc.option(arb, { nil: undefined })
const compact = (record: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined))

const batchOp: Arb<Record<string, unknown>> = fc.oneof(
  fc
    .record({ field, value, clientId: optional(clientId), clock: optional(vectorClock) })
    .map((op) => compact({ type: 'set', h: 1, ...op })),
  fc
    .record({
      state: fc.oneof(
        text,
        fc.integer({ min: 300, max: 1_500 }).map((n) => 's'.repeat(n)),
      ),
      documentId: optional(documentId),
      clientId: optional(clientId),
    })
    .map((op) => compact({ type: 'text-state', h: 1, ...op })),
  fc
    .record({
      type: fc.constantFrom('counter', 'richtext', 'set', 'text'),
      documentId: optional(documentId),
      clientId: optional(clientId),
      value: optional(fc.integer()),
    })
    .map((op) => compact({ h: 1, ...op })),
)

/** A message the hostile may send: its type and fields (before framing). */
export interface HostileMessage {
  type: string
  fields: Record<string, unknown>
}

const message = (type: string, fields: Arb<Record<string, unknown>>): Arb<HostileMessage> =>
  fields.map((f) => ({ type, fields: compact(f) }))

const weighted = (weight: number, arbitrary: Arb<HostileMessage>) => ({ weight, arbitrary })

export const hostileMessage: Arb<HostileMessage> = fc.oneof(
  weighted(2, message('subscribe', fc.record({ documentId }))),
  weighted(2, message('unsubscribe', fc.record({ documentId }))),
  weighted(1, message('awareness_subscribe', fc.record({ documentId }))),
  weighted(1, message('sync_request', fc.record({ documentId, vectorClock: optional(vectorClock) }))),
  weighted(1, message('sync_step1', fc.record({ documentId, stateVector: vectorClock }))),
  weighted(3, message('delta', fc.record({ documentId, field, value, messageId: text }))),
  weighted(
    1,
    message(
      'delta',
      fc.record({
        documentId,
        delta: fc.dictionary(field, value, { minKeys: 1, maxKeys: 3 }),
        messageId: text,
      }),
    ),
  ),
  weighted(
    5,
    message(
      'delta_batch',
      fc.record({ documentId, deltas: fc.array(batchOp, { minLength: 1, maxLength: 4 }), messageId: text }),
    ),
  ),
  weighted(8, message('awareness_update', fc.record({ documentId, clientId, state: presenceState, clock }))),
  weighted(1, message('auth', fc.record({ token: optional(fc.constantFrom('mallory', 'bogus')) }))),
  weighted(3, message('ping', fc.constant({}))),
  weighted(1, message('pong', fc.constant({}))),
  weighted(1, message('ack', fc.record({ messageId: text }))),
  weighted(1, message('connect', fc.constant({}))),
  weighted(1, message('snapshot_request', fc.record({ documentId }))),
)

/** One hostile action: a frame (or a chunked message) sent `times` times in a row, at once. */
export type HostileSend =
  | { kind: 'message'; message: HostileMessage; format: WireFormat; times: number }
  | { kind: 'sequence'; messages: HostileMessage[]; format: WireFormat; times: number }
  | { kind: 'chunks'; message: HostileMessage; chunkId: string; parts: number; send: number[]; times: number }
  | { kind: 'garbage'; frame: Frame; times: number }

const times: Arb<number> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(1) },
  { weight: 1, arbitrary: fc.integer({ min: 2, max: 20 }) },
)

const garbage: Arb<Frame> = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 40 }),
  fc.constantFrom('{', 'null', '[]', '{"type":"nonsense"}', '{"type":"delta","documentId":"open"}'),
  fc.constant(`{"type":"ping","pad":"${'x'.repeat(20_000)}"}`),
  fc.constant('{"type":"awareness_update","documentId":"open","clientId":"x","clock":"1","state":{}}'),
)

/**
 * Take an id with a huge clock and leave it at once: the leave is remembered, and must not keep
 * the id's next owner out.
 */
const squat: Arb<HostileSend> = fc
  .record({
    documentId: fc.constantFrom('open', 'read'),
    clientId: fc.constantFrom(
      'alice-p',
      'alice-p',
      'bob-p',
      'bob-p',
      'carol-p',
      'm-1',
      ...[1, 2, 3].map((n) => `${'L'.repeat(127)}${n}`),
    ),
    clock: fc.constantFrom(1_005, 500_000, 2 ** 48 - 1),
    format: fc.constantFrom<WireFormat>('json', 'binary'),
  })
  .map(({ documentId, clientId, clock, format }) => ({
    kind: 'sequence' as const,
    messages: [
      { type: 'awareness_update', fields: { documentId, clientId, state: { h: 1, squat: true }, clock } },
      { type: 'awareness_update', fields: { documentId, clientId, state: null, clock } },
    ],
    format,
    times: 1,
  }))

/** Presence moves of its own ids: clock jumps around the step limit, and walking out of a room. */
const presenceMoves: Arb<HostileSend> = fc
  .record({
    documentId: fc.constantFrom('open', 'read'),
    clientId: fc.constantFrom('m-1', 'm-2', 'm-3'),
    clock: fc.nat({ max: 10 }),
    jump: fc.constantFrom(1, 999, 1_000, 1_001, 5_000),
    next: fc.constantFrom('jump', 'unsubscribe'),
    format: fc.constantFrom<WireFormat>('json', 'binary'),
  })
  .map(({ documentId, clientId, clock, jump, next, format }) => ({
    kind: 'sequence' as const,
    messages: [
      { type: 'awareness_update', fields: { documentId, clientId, state: { h: 1, at: clock }, clock } },
      next === 'jump'
        ? {
            type: 'awareness_update',
            fields: { documentId, clientId, state: { h: 1, at: clock + jump }, clock: clock + jump },
          }
        : { type: 'unsubscribe', fields: { documentId } },
    ],
    format,
    times: 1,
  }))

/** Many text states under fresh ids at once: past the count cap, and towards the byte quota. */
const textFlood: Arb<HostileSend> = fc
  .record({
    documentId: fc.constantFrom('open', 'open', 'drop', 'read'),
    sizes: fc.array(fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 100, max: 760 })), {
      minLength: 2,
      maxLength: 7,
    }),
    first: fc.nat({ max: 9 }),
    format: fc.constantFrom<WireFormat>('json', 'binary'),
  })
  .map(({ documentId, sizes, first, format }) => ({
    kind: 'message' as const,
    message: {
      type: 'delta_batch',
      fields: {
        documentId,
        messageId: 'flood',
        deltas: sizes.map((size, i) => ({
          type: 'text-state',
          h: 1,
          state: 's'.repeat(size),
          clientId: `m-${first + i}`,
        })),
      },
    },
    format,
    times: 1,
  }))

export const hostileSend: Arb<HostileSend> = fc.oneof(
  { weight: 2, arbitrary: squat },
  { weight: 2, arbitrary: textFlood },
  { weight: 2, arbitrary: presenceMoves },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('message' as const),
      message: hostileMessage,
      format: fc.constantFrom<WireFormat>('json', 'binary'),
      times,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('sequence' as const),
      messages: fc.array(hostileMessage, { minLength: 2, maxLength: 4 }),
      format: fc.constantFrom<WireFormat>('json', 'binary'),
      times: fc.constant(1),
    }),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        message: hostileMessage,
        chunkId: fc.constantFrom('c1', 'c2', 'c3', 'c4'),
        parts: fc.integer({ min: 1, max: 6 }),
        order: fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 6 }),
        // Chunks are also how a flood would try to get past the message budget.
        times: fc.oneof(times, fc.integer({ min: 10, max: 30 })),
      })
      .map(({ message, chunkId, parts, order, times }) => ({
        kind: 'chunks' as const,
        message,
        chunkId,
        parts,
        send: order.map((i) => i % parts),
        times,
      })),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('garbage' as const), frame: garbage, times }) },
)

/** The frames of one send, in order (a message type without a binary code goes as JSON). */
export function framesOf(send: HostileSend, now: number): Frame[] {
  const one = framesOnce(send, now)
  const frames: Frame[] = []
  for (let i = 0; i < send.times; i++) frames.push(...one)
  return frames
}

function framesOnce(send: HostileSend, now: number): Frame[] {
  switch (send.kind) {
    case 'garbage':
      return [send.frame]
    case 'message':
      return [encode(send.message, now, send.format)]
    case 'sequence':
      return send.messages.map((message) => encode(message, now, send.format))
    case 'chunks': {
      const whole = encode(send.message, now, 'binary')
      const bytes = typeof whole === 'string' ? new TextEncoder().encode(whole) : whole
      const size = Math.ceil(bytes.length / send.parts)
      return send.send.map((index) =>
        encodeFrame(
          'delta_batch_chunk',
          {
            chunkId: send.chunkId,
            totalChunks: send.parts,
            chunkIndex: index,
            data: encodeBase64(bytes.subarray(index * size, (index + 1) * size)),
          },
          now,
          'binary',
        ),
      )
    }
  }
}

function encode(message: HostileMessage, now: number, format: WireFormat): Frame {
  try {
    return encodeFrame(message.type, message.fields, now, format)
  } catch {
    return encodeFrame(message.type, message.fields, now, 'json')
  }
}
