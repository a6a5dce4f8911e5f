import type { JsonValue, Register, VectorClock } from '../crdt/types.js'
import { setOwn } from '../protocol/own.js'
import { StoreError } from './errors.js'

/**
 * Node ids (stamp and dot nodes, clock keys) must be printable ASCII from this set: the SQL LWW
 * comparison orders `stamp_node` with collation "C" (byte order), which equals JS `<` on strings
 * only when both are ASCII. Validate `nodeId` with `isValidNodeId` at startup.
 */
export const NODE_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** `NODE_ID` in words, for error messages. */
export const NODE_ID_RULE = '1-128 characters of letters, digits, ".", "_", ":", "-"'

/** True for a node id the stores accept (the one check of `nodeId`, the option and the setting). */
export function isValidNodeId(id: unknown): id is string {
  return typeof id === 'string' && NODE_ID.test(id)
}

const invalid = (message: string): StoreError => new StoreError('QUERY_ERROR', message)

// Postgres text cannot hold NUL, and UTF-8 cannot encode lone surrogates: such keys are stored as
// ESC + their JSON text (pure ASCII escapes). Keys already starting with ESC are escaped too, so the
// mapping is injective and every string round-trips exactly.
const ESC = '\u0001'
const UNSTORABLE_KEY = /\0|\p{Cs}/u
// The same two cases as they appear in JSON.stringify output (it escapes both, lowercase hex).
const UNSTORABLE_JSON = /\\u0000|\\ud[89a-f]/

/**
 * The order `list` pages in: stored keys (`encodeKey`) in UTF-8 byte order, which is code point
 * order. JS `<` compares UTF-16 code units, which puts U+10000 and above before U+E000..U+FFFF.
 */
export function compareStoredKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i)
    let y = b.charCodeAt(i)
    if (x === y) continue
    // Both at or above the surrogates: move surrogates (code points >= U+10000) above U+FFFF.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000
    }
    return x - y
  }
  return a.length - b.length
}

/** `ListDocumentsOptions.limit` as every store applies it: default 100, 1 to 10,000. */
export function listLimit(limit: number | undefined): number {
  return Math.min(10_000, Math.max(1, Math.floor(limit ?? 100)))
}

/** Document id or field name -> the text stored in the database. */
export function encodeKey(key: string): string {
  return UNSTORABLE_KEY.test(key) || key.startsWith(ESC) ? ESC + JSON.stringify(key) : key
}

export function decodeKey(stored: string): string {
  if (!stored.startsWith(ESC)) return stored
  const key: unknown = JSON.parse(stored.slice(1))
  if (typeof key !== 'string') throw invalid(`corrupt encoded key ${JSON.stringify(stored)}`)
  return key
}

/**
 * A value as JSON text for the `value` jsonb column. Values jsonb rejects (strings with NUL or
 * lone surrogates) are stored as a jsonb string holding their JSON text, flagged `encoded`.
 */
export function encodeValue(value: JsonValue): { json: string; encoded: boolean } {
  const json: unknown = JSON.stringify(value)
  if (typeof json !== 'string') throw invalid('register value is not JSON')
  return UNSTORABLE_JSON.test(json) ? { json: JSON.stringify(json), encoded: true } : { json, encoded: false }
}

export function decodeValue(value: unknown, encoded: boolean): JsonValue {
  if (!encoded) return value as JsonValue // came out of JSON.parse: JSON by construction
  if (typeof value !== 'string') throw invalid('corrupt encoded value')
  return JSON.parse(value) as JsonValue
}

const isUint = (n: unknown, max: number): n is number =>
  typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= max

/** Throws a QUERY_ERROR unless `r` fits the columns (stamp_counter is int4). */
export function validateRegister(r: Register): void {
  if (typeof r.field !== 'string') throw invalid('register field must be a string')
  if (!isValidNodeId(r.stamp.node)) throw invalid(`invalid stamp node id ${JSON.stringify(r.stamp.node)}`)
  if (!isValidNodeId(r.dot.node)) throw invalid(`invalid dot node id ${JSON.stringify(r.dot.node)}`)
  if (!isUint(r.stamp.ms, Number.MAX_SAFE_INTEGER)) throw invalid('stamp.ms must be a safe integer ≥ 0')
  if (!isUint(r.stamp.counter, 2 ** 31 - 1)) throw invalid('stamp.counter must be an int32 ≥ 0')
  if (!isUint(r.dot.seq, Number.MAX_SAFE_INTEGER)) throw invalid('dot.seq must be a safe integer ≥ 0')
}

export function validateClock(clock: VectorClock): void {
  for (const [node, seq] of Object.entries(clock)) {
    if (!isValidNodeId(node)) throw invalid(`invalid clock node id ${JSON.stringify(node)}`)
    if (!isUint(seq, Number.MAX_SAFE_INTEGER)) throw invalid(`clock entry ${node} must be a safe integer ≥ 0`)
  }
}

/** bigint columns arrive as strings (postgres), numbers or bigints (PGlite): parse strictly. */
export function toSafeInt(x: unknown, what: string): number {
  const n = typeof x === 'string' && /^-?\d+$/.test(x) ? Number(x) : typeof x === 'bigint' ? Number(x) : x
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw invalid(`corrupt ${what}: ${String(x)}`)
  return n
}

/** Parses the stored clock (JSON text) into a fresh object; `__proto__` stays an own key. */
export function decodeClock(text: unknown): VectorClock {
  const parsed: unknown = typeof text === 'string' ? JSON.parse(text) : undefined
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid('corrupt clock')
  const clock: VectorClock = {}
  for (const [node, seq] of Object.entries(parsed)) setOwn(clock, node, toSafeInt(seq, 'clock entry'))
  return clock
}

/** One register as the load query aggregates it: `[field, value, encoded, deleted, ms, counter, node, dotNode, dotSeq]`. */
export function decodeRegister(row: unknown): Register {
  if (!Array.isArray(row) || row.length !== 9) throw invalid('corrupt register row')
  const [field, value, encoded, deleted, ms, counter, node, dotNode, dotSeq] = row as unknown[]
  if (typeof field !== 'string' || typeof encoded !== 'boolean' || typeof deleted !== 'boolean') {
    throw invalid('corrupt register row')
  }
  if (typeof node !== 'string' || typeof dotNode !== 'string') throw invalid('corrupt register row')
  return {
    field: decodeKey(field),
    value: deleted ? null : decodeValue(value, encoded),
    deleted,
    stamp: { ms: toSafeInt(ms, 'stamp_ms'), counter: toSafeInt(counter, 'stamp_counter'), node },
    dot: { node: dotNode, seq: toSafeInt(dotSeq, 'dot_seq') },
  }
}
