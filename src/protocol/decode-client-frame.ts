/**
 * Frames a client sent, as the server reads them: parsed, checked against the limits, validated
 * into a typed `ClientMessage`. (Frames the server sent are read by `decode-server-frame.ts`.)
 */
import { ERRORS, protocolError } from './errors.js'
import { getOwn } from './own.js'
import { parseFrame } from './parse.js'
import type { DecodeResult, MessageEnvelope } from './types.js'
import { validateWithEnvelope } from './validate.js'

/** Frames above this are refused unless `maxFrameBytes` says otherwise. */
export const DEFAULT_MAX_FRAME_BYTES = 1_048_576

/** Limits of `decodeClientFrame`. */
export interface DecodeOptions {
  /** Largest accepted frame in raw bytes; default DEFAULT_MAX_FRAME_BYTES. */
  maxFrameBytes?: number
}

/** One client frame to a validated `ClientMessage`. Never throws. */
export function decodeClientFrame(frame: string | Uint8Array, options?: DecodeOptions): DecodeResult {
  const parsed = parseFrame(frame, options?.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES)
  if (!parsed.ok) return parsed
  const { format, bytes, timestamp } = parsed
  // A non-string id, or an empty one, counts as absent (the reference generates one if falsy).
  const id = getOwn(parsed.fields, 'id')
  const envelope: MessageEnvelope =
    typeof id === 'string' && id.length > 0 ? { id, timestamp } : { timestamp }
  try {
    const result = validateWithEnvelope(parsed.type, parsed.fields, envelope)
    return result.ok
      ? { ok: true, message: result.message, format, bytes }
      : { ok: false, error: result.error, format, bytes }
  } catch {
    return { ok: false, error: protocolError(ERRORS.invalidFormat, 'INVALID_MESSAGE'), format, bytes }
  }
}
