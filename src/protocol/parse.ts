import { HEADER_BYTES, readPayloadLength, readTimestamp } from './binary-header.js'
import { typeFromCode } from './codes.js'
import { detectFormat } from './detect.js'
import { ERRORS, messageTooLarge, protocolError } from './errors.js'
import { isPlainObject, MAX_JSON_DEPTH, unsafeJson } from './guards.js'
import { getOwn, setOwn } from './own.js'
import type { ParsedFrame, WireFormat } from './types.js'
import { decodeUtf8, utf8Length } from './utf8.js'

/**
 * Split a raw frame into type, fields and timestamp (docs/protocol.md §2.1, §2.2). The size limit is
 * checked on the raw bytes before any JSON is parsed. Never throws.
 */
export function parseFrame(
  frame: string | Uint8Array,
  maxFrameBytes?: number,
  maxDepth: number = MAX_JSON_DEPTH,
): ParsedFrame {
  let format: WireFormat = 'binary'
  let bytes = 0
  try {
    if (typeof frame !== 'string' && !(frame instanceof Uint8Array)) return malformed(format, bytes)
    format = detectFormat(frame)
    bytes = typeof frame === 'string' ? utf8Length(frame) : frame.byteLength
    if (maxFrameBytes !== undefined && bytes > maxFrameBytes) {
      return {
        ok: false,
        error: protocolError(messageTooLarge(bytes, maxFrameBytes), 'INVALID_MESSAGE'),
        format,
        bytes,
      }
    }
    if (typeof frame === 'string') return parseJsonText(frame, bytes, maxDepth)
    if (format === 'json') return parseJsonText(decodeUtf8(frame), bytes, maxDepth)
    return parseBinary(frame, bytes, maxDepth)
  } catch {
    // Bad UTF-8, bad JSON, or anything unforeseen: one answer for every unreadable frame.
    return malformed(format, bytes)
  }
}

function malformed(format: WireFormat, bytes: number, type?: string): ParsedFrame {
  return { ok: false, error: protocolError(ERRORS.invalidFormat, 'INVALID_MESSAGE', type), format, bytes }
}

function parseBinary(frame: Uint8Array, bytes: number, maxDepth: number): ParsedFrame {
  if (frame.byteLength < HEADER_BYTES) return malformed('binary', bytes)
  const type = typeFromCode(frame[0] as number)
  if (type === undefined) return malformed('binary', bytes)
  const end = HEADER_BYTES + readPayloadLength(frame)
  if (end > frame.byteLength) return malformed('binary', bytes, type)
  // Bytes after 13+N are ignored, as in the reference.
  const payload = parseJsonBytes(frame.subarray(HEADER_BYTES, end))
  if (!isPlainObject(payload)) return malformed('binary', bytes, type)
  if (unsafeJson(payload, maxDepth)) return malformed('binary', bytes, type)
  // The header code decides the type; a payload `type` (SDK 0.1.1 `'set'`, C# names) means nothing.
  // The fresh parsed object is the fields as it is: readers only take named own keys.
  const own = getOwn(payload, 'timestamp')
  const timestamp = typeof own === 'number' ? own : readTimestamp(frame)
  return { ok: true, type, fields: payload, timestamp, format: 'binary', bytes }
}

/** JSON of UTF-8 bytes, or `undefined` (never an object) when either layer is malformed. */
function parseJsonBytes(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decodeUtf8(bytes))
  } catch {
    return undefined
  }
}

function parseJsonText(text: string, bytes: number, maxDepth: number): ParsedFrame {
  const object: unknown = JSON.parse(text)
  if (!isPlainObject(object) || unsafeJson(object, maxDepth)) return malformed('json', bytes)
  const type = getOwn(object, 'type')
  if (typeof type !== 'string' || type.length === 0) return malformed('json', bytes)
  const nested = getOwn(object, 'payload')
  const flatten = isPlainObject(nested)
  const fields: Record<string, unknown> = {}
  let timestamp = copyFields(object, fields, 0, flatten ? 'payload' : undefined)
  // A nested `payload` object is flattened on top, its keys winning except `type` (docs/protocol.md §2.2).
  if (flatten) timestamp = copyFields(nested, fields, timestamp)
  return { ok: true, type, fields, timestamp, format: 'json', bytes }
}

/**
 * Copy `source` into `fields` minus `type`/`timestamp` (and `skip`). Returns the numeric
 * `timestamp` of `source` if it has one, else `fallback`.
 */
function copyFields(
  source: Record<string, unknown>,
  fields: Record<string, unknown>,
  fallback: number,
  skip?: string,
): number {
  let timestamp = fallback
  for (const key of Object.keys(source)) {
    if (key === 'type' || key === skip) continue
    const value = source[key]
    if (key === 'timestamp') {
      if (typeof value === 'number') timestamp = value
      continue
    }
    setOwn(fields, key, value)
  }
  return timestamp
}
