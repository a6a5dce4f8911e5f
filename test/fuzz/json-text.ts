/**
 * Generators of hostile JSON *text*. Working on text rather than values reaches what
 * `JSON.stringify` can never produce but a peer can send: `1e999` (parses to Infinity), `-0`,
 * integers beyond 2^53, duplicate keys, `__proto__` keys (own properties after `JSON.parse`),
 * lone surrogates (escaped and raw), nesting far beyond the limit, and invalid escapes.
 */
import fc from 'fast-check'

type Arb<T> = fc.Arbitrary<T>

/** A JSON string literal. JSON.stringify escapes lone surrogates as `\udXXX`. */
export const lit = (s: string): string => JSON.stringify(s)

export const loneSurrogate: Arb<string> = fc
  .integer({ min: 0xd800, max: 0xdfff })
  .map((c) => String.fromCharCode(c))

/** Any UTF-16 string: full unicode, control characters and lone surrogates. */
export const wildString: Arb<string> = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: fc.string({ unit: 'binary', maxLength: 3 }) },
      { weight: 1, arbitrary: loneSurrogate },
      { weight: 1, arbitrary: fc.constantFrom('\u0000', '\ufeff', '\u2028', '\uffff', '"', '\\') },
    ),
    { maxLength: 6 },
  )
  .map((parts) => parts.join(''))

/** Keys that matter to JS objects, and keys the protocol envelope owns. */
export const SPECIAL_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  '__lookupGetter__',
  'polluted',
  'length',
  'then',
  '',
  'type',
  'timestamp',
  'id',
  'payload',
  '__deleted',
] as const

export const hostileKey: Arb<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SPECIAL_KEYS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 6 }) },
  { weight: 1, arbitrary: wildString },
)

/** Number tokens: exact JSON text, including ones with no faithful double. */
export const NUMBER_TOKENS = [
  '0',
  '-0',
  '-0.0',
  '1',
  '-1',
  '0.5',
  '1.5',
  '1e308',
  '-1e308',
  '1.7976931348623157e308',
  '1e999',
  '-1e999',
  '1E400',
  '1e-999',
  '5e-324',
  '9007199254740991',
  '9007199254740992',
  '9007199254740993',
  '-9007199254740993',
  '281474976710656',
  '281474976710657',
  '4294967295',
  '4294967296',
  '18446744073709551616',
  '123456789012345678901234567890123456789',
] as const

export const numberText: Arb<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NUMBER_TOKENS) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.double().map((d) => JSON.stringify(d)) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String) },
)

/** String tokens written as raw JSON text (escapes included verbatim). */
export const STRING_TOKENS = [
  '""',
  '"NaN"',
  '"Infinity"',
  '"-0"',
  '"1e308"',
  '"\\ud800"',
  '"\\udfff"',
  '"\\udc00\\ud800"',
  '"a\\ud83d"',
  '"\\ud83d\\ude00"',
  '"\\u0000"',
  '"\\uffff"',
  '"\\ufeff"',
  '"\\u2028\\u2029"',
  '"__proto__"',
  '"constructor"',
  '"{\\"__proto__\\":{\\"polluted\\":1}}"',
  // Raw (unescaped) lone surrogates and controls inside the text itself.
  '"\ud800"',
  '"x\udfffy"',
] as const

export const stringText: Arb<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...STRING_TOKENS) },
  { weight: 3, arbitrary: wildString.map(lit) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }).map(lit) },
)

/** Payloads that pollute a prototype if any layer merges untrusted JSON naively. */
export const POLLUTION_TEXTS = [
  '{"__proto__":{"polluted":"yes"}}',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
  '{"__proto__":{"__proto__":{"polluted":"yes"}}}',
  '[{"__proto__":{"polluted":1}}]',
  '{"prototype":{"polluted":1},"__proto__":null}',
  '{"__proto__":[]}',
  '{"__proto__":"x"}',
  '{"__proto__":{"toString":1,"valueOf":null}}',
  '{"__deleted":true,"__proto__":{"polluted":1}}',
  '{"a":1,"a":2,"__proto__":{"polluted":1},"__proto__":{"polluted":2}}',
] as const

export const leafText: Arb<string> = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom('null', 'true', 'false') },
  { weight: 3, arbitrary: numberText },
  { weight: 3, arbitrary: stringText },
  { weight: 1, arbitrary: fc.constantFrom(...POLLUTION_TEXTS) },
)

const objectOf = (pairs: readonly (readonly [string, string])[]): string =>
  `{${pairs.map(([k, v]) => `${lit(k)}:${v}`).join(',')}}`

/** Small recursive hostile JSON (arrays and objects of hostile keys and leaves). */
export const hostileTree: Arb<string> = fc.letrec<{ value: string; array: string; object: string }>(
  (tie) => ({
    value: fc.oneof({ depthSize: 'small', maxDepth: 4 }, leafText, leafText, tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 4 }).map((xs) => `[${xs.join(',')}]`),
    object: fc.array(fc.tuple(hostileKey, tie('value')), { maxLength: 4 }).map(objectOf),
  }),
).value

/** `depth` levels of nesting (the value's own depth: `[]` is 1). */
export function nestedText(depth: number, kind: 'array' | 'object' | 'proto' | 'mixed'): string {
  const d = Math.max(1, depth)
  switch (kind) {
    case 'array':
      return '['.repeat(d) + ']'.repeat(d)
    case 'object':
      return '{"a":'.repeat(d - 1) + '{}' + '}'.repeat(d - 1)
    case 'proto':
      return '{"__proto__":'.repeat(d - 1) + '{"polluted":true}' + '}'.repeat(d - 1)
    case 'mixed': {
      const pairs = Math.floor((d - 1) / 2)
      const odd = (d - 1) % 2 === 1
      return '[{"x":'.repeat(pairs) + (odd ? '[[]]' : '[]') + '}]'.repeat(pairs)
    }
  }
}

/** Depths around the 64-level limit (a few hundred bytes at most). */
export const nearLimitDepth: Arb<number> = fc.integer({ min: 55, max: 68 })
/** Depths far beyond it (kilobytes to most of a frame). */
export const farDepth: Arb<number> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 69, max: 3000 }) },
  { weight: 1, arbitrary: fc.constantFrom(20_000, 120_000) },
)
const nestKind = fc.constantFrom<NestKind>('array', 'object', 'proto', 'mixed')
type NestKind = 'array' | 'object' | 'proto' | 'mixed'

export const deepText: Arb<string> = fc
  .tuple(nearLimitDepth, nestKind)
  .map(([depth, kind]) => nestedText(depth, kind))
export const farDeepText: Arb<string> = fc
  .tuple(farDepth, nestKind)
  .map(([depth, kind]) => nestedText(depth, kind))

/** Long strings: plain, escape-heavy (6 text bytes per char) and multi-byte. */
export const longStringText: Arb<string> = fc
  .tuple(fc.integer({ min: 200, max: 80_000 }), fc.constantFrom('x', '\\u0000', 'é', '😀', '\\ud800'))
  .map(([n, unit]) => `"${unit.repeat(n)}"`)

/** Large arrays and objects that still fit in a 1 MiB frame. */
export const hugeText: Arb<string> = fc
  .tuple(fc.integer({ min: 1_000, max: 200_000 }), fc.constantFrom('zeros', 'nulls', 'keys'))
  .map(([n, kind]) => {
    if (kind === 'zeros') return `[${'0,'.repeat(n - 1)}0]`
    if (kind === 'nulls') return `[${'null,'.repeat(n - 1)}null]`
    const keys: string[] = []
    for (let i = 0; i < Math.min(n, 5_000); i++) keys.push(`"k${i}":${i}`)
    return `{${keys.join(',')}}`
  })

/**
 * Expensive values (kilobytes to a megabyte): far too deep, long strings, huge arrays. Mixed in
 * rarely, so that the frame count stays high while every size class is still reached.
 */
export const heavyText: Arb<string> = fc.oneof(farDeepText, longStringText, hugeText)

/** Syntactically broken JSON (must be rejected, never throw). */
export const BROKEN_TEXTS = [
  '',
  '{',
  '}',
  '{"a":}',
  '{"a":1,}',
  '[1,2',
  '"\\x41"',
  '"\\u12"',
  '"\\ud800\\u"',
  'NaN',
  'Infinity',
  '-',
  '01',
  '1e',
  "{'a':1}",
  '{"a":1}{"b":2}',
  '{"a":undefined}',
  '\ufeff{}',
] as const

/** Any hostile JSON value text, weighted towards cheap values. */
export const valueText: Arb<string> = fc.oneof(
  { weight: 240, arbitrary: hostileTree },
  { weight: 48, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)) },
  { weight: 24, arbitrary: deepText },
  { weight: 1, arbitrary: heavyText },
)

/** Values of well-formed shape mostly, for fields the engine stores (keeps quotas reachable). */
export const storedValueText: Arb<string> = fc.oneof(
  { weight: 40, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)) },
  { weight: 40, arbitrary: hostileTree },
  {
    weight: 12,
    arbitrary: fc.constantFrom('{"__deleted":true}', '{"__deleted":1}', '{"__deleted":true,"x":1}'),
  },
  { weight: 8, arbitrary: deepText },
  { weight: 1, arbitrary: heavyText },
)

export { objectOf }
