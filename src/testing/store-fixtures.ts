import { mergeRegisters } from '../crdt/register.js'
import type { DocumentSnapshot, JsonValue, Register } from '../crdt/types.js'

/** Helpers of the store conformance suite (no test framework needed). */

export interface RegisterSpec {
  ms: number
  counter?: number
  node?: string
  seq?: number
  deleted?: boolean
}

export function register(field: string, value: JsonValue, spec: RegisterSpec): Register {
  const node = spec.node ?? 'node-a'
  return {
    field,
    value: spec.deleted ? null : value,
    deleted: spec.deleted ?? false,
    stamp: { ms: spec.ms, counter: spec.counter ?? 0, node },
    dot: { node, seq: spec.seq ?? spec.ms },
  }
}

const byField = (a: Register, b: Register): number => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0)

/** Registers in a canonical order: stores may return them in any order. */
export function sorted(registers: readonly Register[]): Register[] {
  return [...registers].sort(byField)
}

export function normalize(snapshot: DocumentSnapshot | undefined): DocumentSnapshot | undefined {
  if (snapshot === undefined) return undefined
  return { documentId: snapshot.documentId, registers: sorted(snapshot.registers), clock: snapshot.clock }
}

/** What a correct store must hold after saving `registers` in any order: the LWW winner per field. */
export function lwwFold(registers: readonly Register[]): Register[] {
  const winners = new Map<string, Register>()
  for (const r of registers) winners.set(r.field, mergeRegisters(winners.get(r.field), r))
  return sorted([...winners.values()])
}

/** Small deterministic PRNG (mulberry32): reproducible "random" interleavings. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const tmp = out[i] as T
    out[i] = out[j] as T
    out[j] = tmp
  }
  return out
}

/** Every JSON shape a register value can take, including the falsy ones SyncKit lost. */
export const JSON_VALUES: ReadonlyArray<readonly [string, JsonValue]> = [
  ['null', null],
  ['true', true],
  ['false', false],
  ['zero', 0],
  ['negative', -42.5],
  ['float', 0.1 + 0.2],
  ['tiny', 5e-324],
  ['huge', 1.7976931348623157e308],
  ['maxSafe', Number.MAX_SAFE_INTEGER],
  ['emptyString', ''],
  ['string', 'hello'],
  ['unicode', 'é 😀 ע 中'],
  ['quotes', '"\\\'\n\t'],
  ['emptyArray', []],
  ['emptyObject', {}],
  ['array', [1, 'a', null, false, 0, '', [2, [3]], { k: null }]],
  ['nested', { a: { b: [{ c: null, d: false, e: 0, f: '' }] }, '': 'empty key', __proto__x: 1 }],
]

/** Strings a SQL store must escape to keep exact (Postgres text holds no NUL or lone surrogate). */
export const AWKWARD_STRINGS: readonly string[] = [
  '',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udc00y',
  '\u0001',
  '\u0001"{}"',
  '\\u0000',
  '😀',
  'constructor',
  'toString',
  ' '.repeat(3),
  'x'.repeat(10_000),
]
