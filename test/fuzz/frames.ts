/**
 * Frame generators: random bytes, binary frames with valid/invalid type codes, truncated headers,
 * lying length fields and trailing bytes, JSON text frames (as strings and as bytes, flat and
 * with a nested `payload`), and structurally valid messages of every client type whose field
 * values are hostile.
 */
import fc from 'fast-check'
import { encodeBase64, MESSAGE_TYPE_CODES } from '../../src/protocol/index.js'
import {
  deepText,
  hostileKey,
  hostileTree,
  hugeText,
  leafText,
  lit,
  longStringText,
  NUMBER_TOKENS,
  objectOf,
  storedValueText,
  valueText,
  wildString,
} from './json-text.js'

type Arb<T> = fc.Arbitrary<T>
export type Frame = string | Uint8Array

const encoder = new TextEncoder()

/** A message before framing: its type name and its payload as raw `[key, valueText]` pairs. */
export interface MessageSpec {
  type: string
  pairs: [string, string][]
}

/** Document ids: valid ones (some shadowing Object.prototype members) and invalid ones. */
export const DOC_IDS = [
  'doc-1',
  'doc-2',
  'doc-a1',
  'doc-a2',
  'room:x:1',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'prototype',
] as const
const BAD_DOC_IDS = ['x'.repeat(256), 'x'.repeat(257), '', 'a b', 'doc/1', 'dóc', '\ud800', 'doc-1\n', '*']

/** Tokens the fuzz driver's authenticator knows (anything else is refused). */
export const TOKENS = ['tok-admin', 'tok-alice', 'tok-bob', 'tok-short', 'tok-reader'] as const
export const API_KEYS = ['key-service', 'key-reader'] as const

export const docIdText: Arb<string> = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom(...DOC_IDS).map(lit) },
  { weight: 1, arbitrary: fc.constantFrom(...BAD_DOC_IDS).map(lit) },
  { weight: 1, arbitrary: leafText },
)

const fieldName: Arb<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('title', 'body', 'n', 'tags') },
  { weight: 2, arbitrary: hostileKey },
)
const fieldNameText: Arb<string> = fc.oneof(
  { weight: 12, arbitrary: fieldName.map(lit) },
  { weight: 1, arbitrary: leafText },
)

const clockNumber: Arb<string> = fc.oneof(
  { weight: 4, arbitrary: fc.nat({ max: 50 }).map(String) },
  { weight: 3, arbitrary: fc.constantFrom(...NUMBER_TOKENS) },
  { weight: 1, arbitrary: fc.constantFrom('"3"', 'null', '[]', '{}', 'true') },
)
const clockKey: Arb<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('node-fuzz', 'c1', 'c2', 'server') },
  { weight: 2, arbitrary: hostileKey },
)
/** Vector clocks: small hostile ones, over-long ones (beyond MAX_CLOCK_ENTRIES), wrong types. */
export const clockText: Arb<string> = fc.oneof(
  { weight: 160, arbitrary: fc.array(fc.tuple(clockKey, clockNumber), { maxLength: 5 }).map(objectOf) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 900, max: 3000 })
      .map((n) => `{${Array.from({ length: n }, (_, i) => `"n${i}":${i}`).join(',')}}`),
  },
  { weight: 20, arbitrary: leafText },
)

const stringish = (pool: readonly string[]): Arb<string> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...pool).map(lit) },
    { weight: 1, arbitrary: wildString.map(lit) },
    { weight: 1, arbitrary: leafText },
  )

/** `[key, value]` present with weight `present` (default 8), absent with weight 1. */
const optionalPair = (key: string, value: Arb<string>, present = 8): Arb<[string, string][]> =>
  fc.oneof(
    { weight: present, arbitrary: value.map((v): [string, string][] => [[key, v]]) },
    { weight: 1, arbitrary: fc.constant<[string, string][]>([]) },
  )
const pairs = (...parts: Arb<[string, string][]>[]): Arb<[string, string][]> =>
  fc.tuple(...parts).map((groups) => groups.flat())

const base64Text: Arb<string> = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => lit(encodeBase64(b))) },
  {
    weight: 2,
    arbitrary: fc.constantFrom('', 'A', 'AA', 'AAA=', '====', 'QQ', 'QQ=', 'Q===', '@@@@', 'AA AA').map(lit),
  },
  { weight: 1, arbitrary: wildString.map(lit) },
  { weight: 1, arbitrary: leafText },
)
const chunkNumber: Arb<string> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -1, max: 70 }).map(String) },
  { weight: 2, arbitrary: fc.constantFrom(...NUMBER_TOKENS) },
  { weight: 1, arbitrary: fc.constantFrom('"2"', 'null', '[1]') },
)

/** One op of a `delta_batch`: field set/delete, text-state, legacy text, CRDT ops, junk. */
export const batchOpText: Arb<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: pairs(
      optionalPair('type', fc.constantFrom('"set"', '"delete"', '"SET"', '1')),
      optionalPair('field', fieldNameText),
      optionalPair('value', storedValueText),
      optionalPair('clock', clockText),
      optionalPair('clientId', stringish(['c1', 'c2', '__proto__'])),
      optionalPair('timestamp', clockNumber),
    ).map(objectOfPairs),
  },
  {
    weight: 2,
    arbitrary: pairs(
      fc.constant<[string, string][]>([['type', '"text-state"']]),
      optionalPair(
        'state',
        fc.oneof(
          { weight: 8, arbitrary: fc.string({ maxLength: 30 }).map(lit) },
          { weight: 2, arbitrary: leafText },
          { weight: 1, arbitrary: longStringText },
        ),
      ),
      optionalPair('documentId', docIdText, 20),
      optionalPair('clientId', stringish(['c1', 'c2', 'constructor', '__proto__'])),
      optionalPair('extra', hostileTree),
    ).map(objectOfPairs),
  },
  {
    weight: 2,
    arbitrary: pairs(
      fc.constantFrom<[string, string][]>(
        [['type', '"text"']],
        [['type', '"counter"']],
        [['type', '"orset-add"']],
        [['type', '"richtext"']],
        [['type', '"__proto__"']],
      ),
      optionalPair('field', fieldNameText),
      optionalPair('position', clockNumber),
      optionalPair('payload', hostileTree),
    ).map(objectOfPairs),
  },
  { weight: 2, arbitrary: hostileTree },
  { weight: 1, arbitrary: deepText },
)

function objectOfPairs(list: [string, string][]): string {
  return `{${list.map(([k, v]) => `${lit(k)}:${v}`).join(',')}}`
}

/** `deltas`: mixed small batches mostly; empty, oversized (> MAX_BATCH_OPS) and junk sometimes. */
const deltasText: Arb<string> = fc.oneof(
  {
    weight: 200,
    arbitrary: fc.array(batchOpText, { minLength: 1, maxLength: 6 }).map((ops) => `[${ops.join(',')}]`),
  },
  { weight: 4, arbitrary: fc.constantFrom('[]', '{}', 'null', '"[]"') },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(9_999, 10_000, 10_001)
      .map((n) => `[${'{"field":"n","value":1},'.repeat(n - 1)}{"type":"counter"}]`),
  },
  { weight: 4, arbitrary: hostileTree },
)

const deltaMapText: Arb<string> = fc.oneof(
  { weight: 160, arbitrary: fc.array(fc.tuple(fieldName, storedValueText), { maxLength: 4 }).map(objectOf) },
  { weight: 4, arbitrary: fc.constantFrom('{}', 'null', '[]', '"x"', '{"__proto__":{"title":1}}') },
  { weight: 1, arbitrary: hugeText },
)

const awarenessStateText: Arb<string> = fc.oneof(
  { weight: 24, arbitrary: fc.constant('null') },
  {
    weight: 80,
    arbitrary: fc
      .dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 })
      .map((o) => JSON.stringify(o)),
  },
  { weight: 48, arbitrary: fc.array(fc.tuple(hostileKey, valueText), { maxLength: 3 }).map(objectOf) },
  { weight: 8, arbitrary: leafText },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 10_000, max: 40_000 }).map((n) => `{"blob":"${'x'.repeat(n)}"}`),
  },
)
const awarenessClockText: Arb<string> = fc.oneof(
  { weight: 6, arbitrary: fc.nat({ max: 20 }).map(String) },
  { weight: 3, arbitrary: fc.constantFrom(...NUMBER_TOKENS) },
  { weight: 1, arbitrary: fc.constantFrom('"1"', 'null', '[]') },
)

/** Field pairs per client message type: mostly well-typed values, hostile ones often enough. */
const FIELDS: Record<string, Arb<[string, string][]>> = {
  auth: pairs(
    optionalPair('token', stringish([...TOKENS, 'tok-forged', ''])),
    fc.oneof(
      { weight: 4, arbitrary: fc.constant<[string, string][]>([]) },
      {
        weight: 1,
        arbitrary: stringish([...API_KEYS, 'key-bad']).map((v): [string, string][] => [['apiKey', v]]),
      },
    ),
  ),
  connect: fc.constant([]),
  ping: fc.constant([]),
  pong: fc.constant([]),
  subscribe: optionalPair('documentId', docIdText, 20),
  unsubscribe: optionalPair('documentId', docIdText, 20),
  awareness_subscribe: optionalPair('documentId', docIdText, 20),
  snapshot_request: optionalPair('documentId', docIdText, 20),
  snapshot_upload: pairs(optionalPair('documentId', docIdText, 20), optionalPair('snapshot', valueText)),
  sync_request: pairs(optionalPair('documentId', docIdText, 20), optionalPair('vectorClock', clockText)),
  sync_step1: pairs(optionalPair('documentId', docIdText, 20), optionalPair('stateVector', clockText)),
  delta: pairs(
    optionalPair('documentId', docIdText, 20),
    fc.oneof(
      { weight: 3, arbitrary: deltaMapText.map((v): [string, string][] => [['delta', v]]) },
      {
        weight: 3,
        arbitrary: pairs(optionalPair('field', fieldNameText), optionalPair('value', storedValueText)),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(deltaMapText, fieldNameText, storedValueText)
          .map(([d, f, v]): [string, string][] => [
            ['delta', d],
            ['field', f],
            ['value', v],
          ]),
      },
    ),
    optionalPair('vectorClock', clockText),
    optionalPair('clock', clockText),
    optionalPair('messageId', stringish(['m1', 'm2', ''])),
  ),
  delta_batch: pairs(
    optionalPair('documentId', docIdText, 20),
    optionalPair('deltas', deltasText),
    optionalPair('messageId', stringish(['b1', 'b2', ''])),
  ),
  delta_batch_chunk: pairs(
    optionalPair('chunkId', stringish(['k1', 'k2', '__proto__'])),
    optionalPair('totalChunks', chunkNumber),
    optionalPair('chunkIndex', chunkNumber),
    optionalPair('data', base64Text),
  ),
  ack: optionalPair('messageId', stringish(['m1', 'm2', 'toString'])),
  awareness_update: pairs(
    optionalPair('documentId', docIdText, 20),
    optionalPair('clientId', stringish(['k1', 'k2', '__proto__', 'constructor', ''])),
    optionalPair('state', awarenessStateText),
    optionalPair('clock', awarenessClockText),
  ),
}

/** Weighted client types (writes, subscriptions and auth dominate: they reach the most code). */
const TYPE_WEIGHTS: [string, number][] = [
  ['auth', 2],
  ['connect', 1],
  ['ping', 1],
  ['pong', 1],
  ['subscribe', 3],
  ['unsubscribe', 1],
  ['awareness_subscribe', 2],
  ['snapshot_request', 1],
  ['snapshot_upload', 1],
  ['sync_request', 2],
  ['sync_step1', 1],
  ['delta', 5],
  ['delta_batch', 4],
  ['delta_batch_chunk', 1],
  ['ack', 1],
  ['awareness_update', 3],
]

/** Type names that are not client types: server types, unknown, prototype members. */
const foreignType: Arb<string> = fc.constantFrom(
  'auth_success',
  'sync_response',
  'error',
  'awareness_state',
  'toString',
  '__proto__',
  'constructor',
  'hasOwnProperty',
  'DeltaBatch',
  'x'.repeat(5000),
)

const extraPairs: Arb<[string, string][]> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<[string, string][]>([]) },
  { weight: 3, arbitrary: fc.array(fc.tuple(hostileKey, valueText), { minLength: 1, maxLength: 2 }) },
)

/** A structurally plausible message of any client type, with hostile values and extra keys. */
export const messageSpec: Arb<MessageSpec> = fc.oneof(
  ...TYPE_WEIGHTS.map(([type, weight]) => ({
    weight,
    arbitrary: fc
      .tuple(FIELDS[type] ?? fc.constant([]), extraPairs)
      .map(([fields, extra]): MessageSpec => ({ type, pairs: [...fields, ...extra] })),
  })),
  {
    weight: 1,
    arbitrary: fc
      .tuple(foreignType, extraPairs)
      .map(([type, extra]): MessageSpec => ({ type, pairs: [['documentId', '"doc-1"'], ...extra] })),
  },
)

/** Messages the engine accepts more often than not (to reach handlers and resolutions). */
export const messageOfType = (type: string): Arb<MessageSpec> =>
  (FIELDS[type] ?? fc.constant([])).map((fields): MessageSpec => ({ type, pairs: fields }))

// ------------------------------------------------------------------------------------- framing

const idText: Arb<[string, string][]> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.string({ minLength: 1, maxLength: 8 }).map((s): [string, string][] => [['id', lit(s)]]),
  },
  { weight: 2, arbitrary: fc.constant<[string, string][]>([]) },
  { weight: 1, arbitrary: leafText.map((v): [string, string][] => [['id', v]]) },
)
const timestampText: Arb<[string, string][]> = fc.oneof(
  { weight: 4, arbitrary: fc.constant<[string, string][]>([['timestamp', '1700000000000']]) },
  { weight: 2, arbitrary: fc.constant<[string, string][]>([]) },
  { weight: 1, arbitrary: leafText.map((v): [string, string][] => [['timestamp', v]]) },
)

const CODE_OF: Record<string, number> = MESSAGE_TYPE_CODES

type Framing =
  | { style: 'json'; asBytes: boolean; nested: boolean; typeFirst: boolean; typeText: string | undefined }
  | { style: 'binary'; code: number; ts: Uint8Array; length: LengthMode; trailing: Uint8Array }

type LengthMode = { kind: 'exact' } | { kind: 'delta'; by: number } | { kind: 'value'; value: number }

const lengthMode: Arb<LengthMode> = fc.oneof(
  { weight: 40, arbitrary: fc.constant<LengthMode>({ kind: 'exact' }) },
  { weight: 2, arbitrary: fc.integer({ min: -8, max: 8 }).map((by): LengthMode => ({ kind: 'delta', by })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff)
      .map((value): LengthMode => ({ kind: 'value', value })),
  },
)

const timestampBytes: Arb<Uint8Array> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constant(new Uint8Array([0, 0, 1, 0x8b, 0xcf, 0xe5, 0x68, 0x00])),
  },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 8, maxLength: 8 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      new Uint8Array([0x80, 0, 0, 0, 0, 0, 0, 0]),
      new Uint8Array([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    ),
  },
)

const framingFor = (type: string): Arb<Framing> => {
  const code = CODE_OF[type]
  const json: Arb<Framing> = fc
    .record({
      asBytes: fc.boolean(),
      nested: fc.oneof(
        { weight: 5, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      ),
      typeFirst: fc.boolean(),
      typeText: fc.oneof(
        { weight: 12, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: leafText },
      ),
    })
    .map((r): Framing => ({ style: 'json', ...r }))
  const binary: Arb<Framing> = fc
    .record({
      code: fc.oneof(
        { weight: 30, arbitrary: fc.constant(code ?? 0x00) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
      ),
      ts: timestampBytes,
      length: lengthMode,
      trailing: fc.oneof(
        { weight: 5, arbitrary: fc.constant(new Uint8Array(0)) },
        { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 16 }) },
      ),
    })
    .map((r): Framing => ({ style: 'binary', ...r }))
  // Types without a binary code only travel as JSON (a binary one is then a bad-code frame).
  return code === undefined
    ? fc.oneof({ weight: 6, arbitrary: json }, { weight: 1, arbitrary: binary })
    : fc.oneof({ weight: 1, arbitrary: json }, { weight: 1, arbitrary: binary })
}

function frameOf(spec: MessageSpec, framing: Framing, envelope: [string, string][]): Frame {
  if (framing.style === 'json') {
    const typePair: [string, string] = ['type', framing.typeText ?? lit(spec.type)]
    const body = framing.nested
      ? [...envelope, ['payload', objectOfPairs(spec.pairs)] as [string, string]]
      : [...envelope, ...spec.pairs]
    const all = framing.typeFirst ? [typePair, ...body] : [...body, typePair]
    const text = objectOfPairs(all)
    return framing.asBytes ? encoder.encode(text) : text
  }
  const payload = encoder.encode(objectOfPairs([...envelope, ...spec.pairs]))
  const frame = new Uint8Array(13 + payload.length + framing.trailing.length)
  const view = new DataView(frame.buffer)
  view.setUint8(0, framing.code)
  frame.set(framing.ts, 1)
  const length =
    framing.length.kind === 'exact'
      ? payload.length
      : framing.length.kind === 'delta'
        ? Math.max(0, payload.length + framing.length.by)
        : framing.length.value
  view.setUint32(9, length >>> 0)
  frame.set(payload, 13)
  frame.set(framing.trailing, 13 + payload.length)
  return frame
}

type Mutation =
  | { kind: 'none' }
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; xor: number }
  | { kind: 'splice'; at: number; bytes: Uint8Array }
  | { kind: 'offset' }

const INVALID_UTF8 = [
  new Uint8Array([0xff]),
  new Uint8Array([0xc0, 0x80]),
  new Uint8Array([0xed, 0xa0, 0x80]),
  new Uint8Array([0xf4, 0x90, 0x80, 0x80]),
  new Uint8Array([0xe2, 0x82]),
  new Uint8Array([0xef, 0xbb, 0xbf]),
]

const mutation: Arb<Mutation> = fc.oneof(
  { weight: 40, arbitrary: fc.constant<Mutation>({ kind: 'none' }) },
  { weight: 2, arbitrary: fc.nat().map((at): Mutation => ({ kind: 'truncate', at })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.nat(), fc.integer({ min: 1, max: 255 }))
      .map(([at, xor]): Mutation => ({ kind: 'flip', at, xor })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.nat(), fc.constantFrom(...INVALID_UTF8))
      .map(([at, bytes]): Mutation => ({ kind: 'splice', at, bytes })),
  },
  { weight: 1, arbitrary: fc.constant<Mutation>({ kind: 'offset' }) },
)

function mutate(frame: Frame, m: Mutation): Frame {
  if (m.kind === 'none') return frame
  if (typeof frame === 'string') {
    if (m.kind === 'truncate') return frame.slice(0, m.at % (frame.length + 1))
    if (m.kind === 'splice') {
      const at = m.at % (frame.length + 1)
      return frame.slice(0, at) + '\ud800\u0000' + frame.slice(at)
    }
    return frame
  }
  switch (m.kind) {
    case 'truncate':
      return frame.subarray(0, m.at % (frame.length + 1))
    case 'flip': {
      if (frame.length === 0) return frame
      const copy = frame.slice()
      const at = m.at % copy.length
      copy[at] = (copy[at] ?? 0) ^ m.xor
      return copy
    }
    case 'splice': {
      const at = m.at % (frame.length + 1)
      const out = new Uint8Array(frame.length + m.bytes.length)
      out.set(frame.subarray(0, at))
      out.set(m.bytes, at)
      out.set(frame.subarray(at), at + m.bytes.length)
      return out
    }
    case 'offset': {
      // The same bytes seen through a view with a non-zero byteOffset (a Buffer pool slice).
      const backing = new Uint8Array(frame.length + 7)
      backing.set(frame, 3)
      return backing.subarray(3, 3 + frame.length)
    }
  }
}

/** A structured message, framed one way or another, sometimes mutated afterwards. */
export const framedMessage = (specs: Arb<MessageSpec> = messageSpec): Arb<Frame> =>
  specs.chain((spec) =>
    fc
      .tuple(framingFor(spec.type), idText, timestampText, mutation)
      .map(([framing, id, ts, m]) => mutate(frameOf(spec, framing, [...id, ...ts]), m)),
  )

/** Frame bytes only, for wrapping into chunks. */
export const toBytes = (frame: Frame): Uint8Array =>
  typeof frame === 'string' ? encoder.encode(frame) : frame

/** Random bytes: short ones, ones with a plausible header, and `{`-prefixed ones. */
export const randomBytesFrame: Arb<Frame> = fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 600 }) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...Object.values(MESSAGE_TYPE_CODES)), fc.uint8Array({ maxLength: 40 }))
      .map(([code, rest]) => Uint8Array.from([code, ...rest])),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((rest) => Uint8Array.from([0x7b, ...rest])) },
)

/** Random text frames: arbitrary strings, non-object JSON, broken JSON. */
export const randomTextFrame: Arb<Frame> = fc.oneof(
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  { weight: 2, arbitrary: valueText },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      '{',
      '{"type":"ping"',
      '{"type":"ping",}',
      '[{"type":"ping"}]',
      '"ping"',
      'null',
    ),
  },
)

/** A frame just above `maxBytes` (cheap to build: a repeated string or zero-filled bytes). */
export const oversizedFrame = (maxBytes: number): Arb<Frame> =>
  fc.tuple(fc.integer({ min: 1, max: 64 }), fc.boolean()).map(([extra, text]) => {
    const n = maxBytes + extra
    if (text) return `{"type":"ping","x":"${'x'.repeat(Math.max(0, n - 27))}"}`
    const frame = new Uint8Array(n)
    frame[0] = MESSAGE_TYPE_CODES.ping
    new DataView(frame.buffer).setUint32(9, n - 13)
    return frame
  })

/** Every kind of frame, structured ones dominating. */
export const anyFrame = (
  maxFrameBytes: number,
  specs: Arb<MessageSpec> = messageSpec,
  oversized: boolean = true,
): Arb<Frame> =>
  fc.oneof(
    { weight: 340, arbitrary: framedMessage(specs) },
    { weight: 25, arbitrary: randomBytesFrame },
    { weight: 25, arbitrary: randomTextFrame },
    // 1 MiB frames are costly to build: rare with the default limit.
    ...(oversized
      ? [{ weight: maxFrameBytes > 100_000 ? 1 : 8, arbitrary: oversizedFrame(maxFrameBytes) }]
      : []),
  )

// ------------------------------------------------------------------------------------- chunks

/** How a chunk set is tampered with. */
export type ChunkTamper =
  | { kind: 'none' }
  | { kind: 'shuffle'; seed: number }
  | { kind: 'duplicate'; index: number }
  | { kind: 'drop'; index: number }
  | { kind: 'total'; index: number; total: string }
  | { kind: 'index'; index: number; value: string }
  | { kind: 'data'; index: number; value: string }

const tamper: Arb<ChunkTamper> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<ChunkTamper>({ kind: 'none' }) },
  { weight: 2, arbitrary: fc.nat().map((seed): ChunkTamper => ({ kind: 'shuffle', seed })) },
  { weight: 1, arbitrary: fc.nat().map((index): ChunkTamper => ({ kind: 'duplicate', index })) },
  { weight: 1, arbitrary: fc.nat().map((index): ChunkTamper => ({ kind: 'drop', index })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.nat(), chunkNumber)
      .map(([index, total]): ChunkTamper => ({ kind: 'total', index, total })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.nat(), chunkNumber)
      .map(([index, value]): ChunkTamper => ({ kind: 'index', index, value })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.nat(), base64Text)
      .map(([index, value]): ChunkTamper => ({ kind: 'data', index, value })),
  },
)

/**
 * A `delta_batch_chunk` set carrying one inner frame (any frame, a nested chunk included), split
 * into `parts` pieces, each chunk framed as JSON or binary, then tampered with.
 */
export const chunkSet = (inner: Arb<Frame>): Arb<Frame[]> =>
  fc
    .record({
      inner,
      parts: fc.oneof(
        { weight: 12, arbitrary: fc.integer({ min: 1, max: 5 }) },
        { weight: 2, arbitrary: fc.integer({ min: 6, max: 12 }) },
        // Just above the default maxChunksPerSet (64).
        { weight: 1, arbitrary: fc.integer({ min: 63, max: 66 }) },
      ),
      chunkId: fc.constantFrom('k1', 'k2', 'k3', '__proto__', 'constructor'),
      binary: fc.boolean(),
      tamper,
    })
    .map(({ inner, parts, chunkId, binary, tamper }) => {
      const bytes = toBytes(inner)
      const size = Math.max(1, Math.ceil(bytes.length / parts))
      const total = Math.max(1, Math.ceil(bytes.length / size))
      let chunks = Array.from({ length: total }, (_, i) => ({
        chunkIndex: String(i),
        totalChunks: String(total),
        data: lit(encodeBase64(bytes.subarray(i * size, (i + 1) * size))),
      }))
      const at = (n: number): number => n % chunks.length
      switch (tamper.kind) {
        case 'shuffle': {
          let s = tamper.seed
          for (let i = chunks.length - 1; i > 0; i--) {
            s = (Math.imul(s, 1103515245) + 12345) >>> 0
            const j = s % (i + 1)
            const a = chunks[i]
            const b = chunks[j]
            if (a && b) {
              chunks[i] = b
              chunks[j] = a
            }
          }
          break
        }
        case 'duplicate': {
          const c = chunks[at(tamper.index)]
          if (c) chunks.push(c)
          break
        }
        case 'drop':
          chunks = chunks.filter((_, i) => i !== at(tamper.index))
          break
        case 'total':
        case 'index':
        case 'data': {
          const i = at(tamper.index)
          const c = chunks[i]
          if (!c) break
          if (tamper.kind === 'total') chunks[i] = { ...c, totalChunks: tamper.total }
          else if (tamper.kind === 'index') chunks[i] = { ...c, chunkIndex: tamper.value }
          else chunks[i] = { ...c, data: tamper.value }
          break
        }
        case 'none':
          break
      }
      return chunks.map((c): Frame => {
        const pairList: [string, string][] = [
          ['chunkId', lit(chunkId)],
          ['totalChunks', c.totalChunks],
          ['chunkIndex', c.chunkIndex],
          ['data', c.data],
        ]
        if (!binary)
          return objectOfPairs([
            ['type', '"delta_batch_chunk"'],
            ['id', '"c"'],
            ['timestamp', '1'],
            ...pairList,
          ])
        const payload = encoder.encode(objectOfPairs(pairList))
        const frame = new Uint8Array(13 + payload.length)
        const view = new DataView(frame.buffer)
        view.setUint8(0, MESSAGE_TYPE_CODES.delta_batch_chunk)
        view.setUint32(9, payload.length)
        frame.set(payload, 13)
        return frame
      })
    })
