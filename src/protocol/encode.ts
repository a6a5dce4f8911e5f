import { HEADER_BYTES, writeHeader } from './binary-header.js'
import { codeOfType } from './codes.js'
import type { ServerMessage, WireFormat } from './types.js'
import { utf8Encoder } from './utf8.js'

/**
 * Encode one message. Binary: header + JSON payload of `fields` minus `type`/`timestamp` (so `id`
 * travels in the payload, docs/protocol.md §2.1). JSON: `{type, ...fields, timestamp}`. Keys whose value is
 * `undefined` are left out (JSON.stringify semantics). Throws a TypeError for a type without a
 * binary code: that is a programming error, never a peer's.
 */
export function encodeFrame(
  type: string,
  fields: Record<string, unknown>,
  timestamp: number,
  format: WireFormat,
): string | Uint8Array {
  if (format === 'json') {
    // Spread (not Object.assign) so a `__proto__` data key stays data; then pin type/timestamp.
    const message: Record<string, unknown> = { type, ...fields }
    message.type = type
    message.timestamp = Number.isFinite(timestamp) ? timestamp : 0
    return JSON.stringify(message)
  }
  const code = codeOfType(type)
  if (code === undefined) throw new TypeError(`No binary type code for message type "${type}"`)
  return binaryFrame(code, timestamp, JSON.stringify(withoutEnvelope(fields)))
}

function withoutEnvelope(fields: Record<string, unknown>): Record<string, unknown> {
  if (!Object.hasOwn(fields, 'type') && !Object.hasOwn(fields, 'timestamp')) return fields
  const { type: _type, timestamp: _timestamp, ...payload } = fields
  return payload
}

/** The per-broadcast encoder: one stringify, one allocation for ASCII payloads. */
export function encodeServerMessage(message: ServerMessage, format: WireFormat): string | Uint8Array {
  if (format === 'json') return JSON.stringify(message)
  const { type, timestamp, ...payload } = message
  const code = codeOfType(type)
  if (code === undefined) throw new TypeError(`No binary type code for message type "${type}"`)
  return binaryFrame(code, timestamp, JSON.stringify(payload))
}

function binaryFrame(code: number, timestamp: number, json: string): Uint8Array {
  // Optimistic: if every char is ASCII the payload is exactly json.length bytes and fits in place.
  let frame = new Uint8Array(HEADER_BYTES + json.length)
  const { read, written } = utf8Encoder.encodeInto(json, frame.subarray(HEADER_BYTES))
  let length = written
  if (read !== json.length) {
    const body = utf8Encoder.encode(json)
    frame = new Uint8Array(HEADER_BYTES + body.length)
    frame.set(body, HEADER_BYTES)
    length = body.length
  }
  writeHeader(new DataView(frame.buffer, frame.byteOffset, frame.byteLength), code, timestamp, length)
  return frame
}
