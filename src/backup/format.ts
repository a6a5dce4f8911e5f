import type { JsonValue, Register, VectorClock } from '../crdt/types.js'
import { setOwn } from '../protocol/own.js'
import { isValidNodeId } from '../storage/codec.js'
import { canonicalJson } from './canonical-json.js'

/**
 * The export format, version 1: JSON lines (UTF-8, `\n` after every line).
 *
 *   {"format":"synckit-engine-export","version":1}
 *   {"clock":{"node-a":7},"document":"doc-1","registers":[…]}
 *   {"document":"big","more":true,"registers":[…]}      (a large document spans several lines:
 *   {"clock":{…},"document":"big","registers":[…]}       every line but its last has "more")
 *   {"documents":2,"end":true,"registers":12345}
 *
 * A register is `{"deleted","dot":{"node","seq"},"field","stamp":{"counter","ms","node"},"value"}`
 * (tombstones: `"deleted":true,"value":null`). The writer emits keys in code-unit order at every
 * depth, registers in field order and documents in id order, so an export is a function of the data
 * alone. The end line makes a truncated file detectable.
 */
export const EXPORT_FORMAT = 'synckit-engine-export'
/** The version this code writes, and the only one it reads. */
export const EXPORT_VERSION = 1

/** One line of an export, parsed and validated (`parseExportLine`). */
export type ExportLine =
  | { kind: 'header'; version: number }
  | { kind: 'document'; documentId: string; registers: Register[]; more: boolean; clock?: VectorClock }
  | { kind: 'end'; documents: number; registers: number }

/** A malformed export: names the line (1-based) and what is wrong with it. */
export class BackupFormatError extends Error {
  override readonly name = 'BackupFormatError'
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(line > 0 ? `line ${line}: ${message}` : message)
  }
}

export function headerLine(): string {
  return `${canonicalJson({ format: EXPORT_FORMAT, version: EXPORT_VERSION })}\n`
}

/**
 * A document line from registers already in canonical JSON (`canonicalJson(register)`), with its
 * keys in the canonical order (`clock`, `document`, `more`, `registers`).
 */
export function documentLine(
  documentId: string,
  registerTexts: readonly string[],
  last: { clock: VectorClock } | undefined,
): string {
  const head = last
    ? `{"clock":${canonicalJson(last.clock)},"document":${JSON.stringify(documentId)}`
    : `{"document":${JSON.stringify(documentId)},"more":true`
  return `${head},"registers":[${registerTexts.join(',')}]}\n`
}

export function endLine(documents: number, registers: number): string {
  return `${canonicalJson({ end: true, documents, registers })}\n`
}

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x)
const isUint = (n: unknown, max = Number.MAX_SAFE_INTEGER): n is number =>
  typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= max

function onlyKeys(
  object: Record<string, unknown>,
  allowed: readonly string[],
  what: string,
): string | undefined {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) return `unknown key ${JSON.stringify(key)} in ${what}`
  }
  return undefined
}

/** What is wrong with a register, or undefined. Same bounds as the stores' columns. */
function registerProblem(r: unknown, index: number): string | undefined {
  const where = `registers[${index}]`
  if (!isObject(r)) return `${where} is not an object`
  const extra = onlyKeys(r, ['field', 'value', 'deleted', 'stamp', 'dot'], where)
  if (extra) return extra
  if (typeof r.field !== 'string') return `${where}.field must be a string`
  if (!('value' in r)) return `${where}.value is missing`
  if (typeof r.deleted !== 'boolean') return `${where}.deleted must be true or false`
  if (r.deleted && r.value !== null) return `${where} is a tombstone with a value`
  const { stamp, dot } = r
  if (!isObject(stamp) || onlyKeys(stamp, ['ms', 'counter', 'node'], 'stamp')) {
    return `${where}.stamp must be {ms, counter, node}`
  }
  if (!isUint(stamp.ms)) return `${where}.stamp.ms must be an integer ≥ 0`
  if (!isUint(stamp.counter, 2 ** 31 - 1)) return `${where}.stamp.counter must be an integer from 0 to 2^31-1`
  if (!isValidNodeId(stamp.node)) return `${where}.stamp.node is not a valid node id`
  if (!isObject(dot) || onlyKeys(dot, ['node', 'seq'], 'dot')) return `${where}.dot must be {node, seq}`
  if (!isValidNodeId(dot.node)) return `${where}.dot.node is not a valid node id`
  if (!isUint(dot.seq)) return `${where}.dot.seq must be an integer ≥ 0`
  return undefined
}

function clockProblem(clock: unknown): string | undefined {
  if (!isObject(clock)) return 'clock must be an object'
  for (const [node, seq] of Object.entries(clock)) {
    if (!isValidNodeId(node)) return `clock: ${JSON.stringify(node)} is not a valid node id`
    if (!isUint(seq)) return `clock.${node} must be an integer ≥ 0`
  }
  return undefined
}

/** A fresh register (own keys only, exactly the `Register` shape) from a validated one. */
function toRegister(r: Record<string, unknown>): Register {
  const stamp = r.stamp as Register['stamp']
  const dot = r.dot as Register['dot']
  return {
    field: r.field as string,
    value: r.value as JsonValue,
    deleted: r.deleted as boolean,
    stamp: { ms: stamp.ms, counter: stamp.counter, node: stamp.node },
    dot: { node: dot.node, seq: dot.seq },
  }
}

function toClock(clock: Record<string, unknown>): VectorClock {
  const out: VectorClock = {}
  for (const [node, seq] of Object.entries(clock)) setOwn(out, node, seq as number)
  return out
}

/** Parses and validates one line; throws `BackupFormatError` naming `lineNumber`. */
export function parseExportLine(text: string, lineNumber: number): ExportLine {
  const fail = (message: string): never => {
    throw new BackupFormatError(lineNumber, message)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    return fail(`not JSON (${error instanceof Error ? error.message : String(error)})`)
  }
  if (!isObject(parsed)) return fail('expected a JSON object')
  if ('format' in parsed) {
    if (parsed.format !== EXPORT_FORMAT) return fail(`unknown format ${JSON.stringify(parsed.format)}`)
    if (!isUint(parsed.version)) return fail('version must be an integer')
    return { kind: 'header', version: parsed.version }
  }
  if ('end' in parsed) {
    const extra = onlyKeys(parsed, ['end', 'documents', 'registers'], 'end line')
    if (extra) return fail(extra)
    if (parsed.end !== true || !isUint(parsed.documents) || !isUint(parsed.registers)) {
      return fail('end line must be {"end":true,"documents":N,"registers":N}')
    }
    return { kind: 'end', documents: parsed.documents, registers: parsed.registers }
  }
  if (!('document' in parsed)) return fail('expected a header, document or end line')
  const extra = onlyKeys(parsed, ['document', 'registers', 'clock', 'more'], 'document line')
  if (extra) return fail(extra)
  const { document, registers, clock, more } = parsed
  if (typeof document !== 'string' || document.length === 0)
    return fail('document must be a non-empty string')
  if (!Array.isArray(registers)) return fail('registers must be a list')
  for (let i = 0; i < registers.length; i++) {
    const problem = registerProblem(registers[i], i)
    if (problem) return fail(`document ${JSON.stringify(document)}: ${problem}`)
  }
  if (more !== undefined && more !== true) return fail('more must be true when present')
  if (more === true && clock !== undefined)
    return fail('a line with "more" carries no clock (its last line does)')
  if (more === undefined) {
    if (clock === undefined) return fail(`document ${JSON.stringify(document)}: its last line needs a clock`)
    const problem = clockProblem(clock)
    if (problem) return fail(`document ${JSON.stringify(document)}: ${problem}`)
  }
  const line: ExportLine = {
    kind: 'document',
    documentId: document,
    registers: (registers as Record<string, unknown>[]).map(toRegister),
    more: more === true,
  }
  if (more === undefined) line.clock = toClock(clock as Record<string, unknown>)
  return line
}
