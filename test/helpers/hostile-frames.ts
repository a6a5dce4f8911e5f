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
  { weight: 1, arbitrary: fc.integer({ min: 60, max: 128 }).map((n) => `L${'l'.repeat(n - 1)}`) },
)

export const clientId: Arb<string> = fc.oneof(
  { weight: 8, arbitrary: validClientId },
  { weight: 1, arbitrary: fc.integer({ min: 129, max: 600 }).map((n) => `L${'l'.repeat(n - 1)}`) },
  { weight: 1, arbitrary: fc.constant('') },
)

/** Clocks around every bound: small steps, big jumps, the validator's cap and past it. */
const clock: Arb<number> = fc.oneof(
  { weight: 3, arbitrary: fc.nat({ max: 8 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 5_000 }) },
  { weight: 1, arbitrary: fc.constantFrom(2 ** 48, 2 ** 48 + 1, Number.MAX_SAFE_INTEGER, -1, 1.5) },
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

export const hostileMessage: Arb<HostileMessage> = fc.oneof(
  message('subscribe', fc.record({ documentId })),
  message('unsubscribe', fc.record({ documentId })),
  message('awareness_subscribe', fc.record({ documentId })),
  message('sync_request', fc.record({ documentId, vectorClock: optional(vectorClock) })),
  message('sync_step1', fc.record({ documentId, stateVector: vectorClock })),
  message('delta', fc.record({ documentId, field, value, messageId: text })),
  message(
    'delta',
    fc.record({
      documentId,
      delta: fc.dictionary(field, value, { minKeys: 1, maxKeys: 3 }),
      messageId: text,
    }),
  ),
  message(
    'delta_batch',
    fc.record({ documentId, deltas: fc.array(batchOp, { minLength: 1, maxLength: 4 }), messageId: text }),
  ),
  message('awareness_update', fc.record({ documentId, clientId, state: presenceState, clock })),
  message('awareness_update', fc.record({ documentId, clientId, state: presenceState, clock })),
  message('auth', fc.record({ token: optional(fc.constantFrom('mallory', 'bogus')) })),
  message('ping', fc.constant({})),
  message('pong', fc.constant({})),
  message('ack', fc.record({ messageId: text })),
  message('connect', fc.constant({})),
  message('snapshot_request', fc.record({ documentId })),
)

/** One hostile action: a frame (or a chunked message) sent `times` times in a row, at once. */
export type HostileSend =
  | { kind: 'message'; message: HostileMessage; format: WireFormat; times: number }
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

export const hostileSend: Arb<HostileSend> = fc.oneof(
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
    weight: 2,
    arbitrary: fc
      .record({
        message: hostileMessage,
        chunkId: fc.constantFrom('c1', 'c2', 'c3', 'c4'),
        parts: fc.integer({ min: 1, max: 6 }),
        order: fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 6 }),
        times,
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
