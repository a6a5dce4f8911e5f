/**
 * Frames the server sent, as a client reads them (`synckit-engine/client`, the tests). (Frames a
 * client sent are read by `decode-client-frame.ts`.)
 */
import { ERRORS, invalidMessageType, protocolError } from './errors.js'
import { isJsonObject, isJsonValue, MAX_JSON_DEPTH, REPLY_NESTING } from './guards.js'
import { getOwn } from './own.js'
import { parseFrame } from './parse.js'
import type {
  AwarenessEntry,
  JsonObject,
  Permissions,
  ServerDecodeResult,
  ServerMessage,
  VectorClock,
} from './types.js'

/** A field is missing or of the wrong primitive type. */
class Invalid extends Error {}

function str(fields: Record<string, unknown>, key: string): string {
  const v = getOwn(fields, key)
  if (typeof v !== 'string') throw new Invalid()
  return v
}
function num(fields: Record<string, unknown>, key: string): number {
  const v = getOwn(fields, key)
  if (typeof v !== 'number') throw new Invalid()
  return v
}
function obj(fields: Record<string, unknown>, key: string): JsonObject {
  const v = getOwn(fields, key)
  if (!isJsonObject(v)) throw new Invalid()
  return v
}
function objOrNull(fields: Record<string, unknown>, key: string): JsonObject | null {
  const v = getOwn(fields, key)
  if (v === null) return null
  if (!isJsonObject(v)) throw new Invalid()
  return v
}
function objects(fields: Record<string, unknown>, key: string): JsonObject[] {
  const v = getOwn(fields, key)
  if (!Array.isArray(v) || !v.every(isJsonObject)) throw new Invalid()
  return v
}
function optional<T>(
  fields: Record<string, unknown>,
  key: string,
  read: (f: Record<string, unknown>, k: string) => T,
): T | undefined {
  return getOwn(fields, key) === undefined ? undefined : read(fields, key)
}
function clockOf(fields: Record<string, unknown>, key: string): VectorClock {
  const clock = obj(fields, key)
  for (const v of Object.values(clock)) if (typeof v !== 'number') throw new Invalid()
  // Checked above: every value is a number.
  return clock as VectorClock
}
function permissionsOf(fields: Record<string, unknown>, key: string): Permissions {
  const p = obj(fields, key)
  const list = (k: string): string[] => {
    const v = getOwn(p, k)
    if (!Array.isArray(v)) throw new Invalid()
    return v.map((x) => {
      if (typeof x !== 'string') throw new Invalid()
      return x
    })
  }
  const isAdmin = getOwn(p, 'isAdmin')
  if (typeof isAdmin !== 'boolean') throw new Invalid()
  return { canRead: list('canRead'), canWrite: list('canWrite'), isAdmin }
}
function entryOf(value: JsonObject): AwarenessEntry {
  return { clientId: str(value, 'clientId'), state: objOrNull(value, 'state'), clock: num(value, 'clock') }
}

/** Drop keys whose value is `undefined`, so decoded optional fields are absent, not undefined. */
function compact<T extends object>(message: T): T {
  for (const key of Object.keys(message) as (keyof T)[]) if (message[key] === undefined) delete message[key]
  return message
}

/**
 * Light validation of a server frame for clients: a known server-direction type and the
 * required fields with the right primitive types. A missing `id` becomes ''. Never throws.
 */
export function decodeServerFrame(frame: string | Uint8Array): ServerDecodeResult {
  const parsed = parseFrame(frame, undefined, MAX_JSON_DEPTH + REPLY_NESTING)
  if (!parsed.ok) return { ok: false, error: parsed.error }
  const { type, fields, timestamp, format } = parsed
  const rawId = getOwn(fields, 'id')
  const env = { id: typeof rawId === 'string' ? rawId : '', timestamp }
  try {
    const message = build(type, fields, env)
    if (message === undefined) {
      return { ok: false, error: protocolError(invalidMessageType(type), 'INVALID_MESSAGE', type) }
    }
    return { ok: true, message: compact(message), format }
  } catch {
    return { ok: false, error: protocolError(ERRORS.invalidFormat, 'INVALID_MESSAGE', type) }
  }
}

function build(
  type: string,
  f: Record<string, unknown>,
  env: { id: string; timestamp: number },
): ServerMessage | undefined {
  switch (type) {
    case 'auth_success':
      return {
        type,
        ...env,
        userId: str(f, 'userId'),
        permissions: optional(f, 'permissions', permissionsOf),
      }
    case 'auth_error':
    case 'error':
      return { type, ...env, error: str(f, 'error'), details: optional(f, 'details', obj) }
    case 'sync_response':
      return {
        type,
        ...env,
        requestId: str(f, 'requestId'),
        documentId: str(f, 'documentId'),
        state: obj(f, 'state'),
        // Lenient where other servers are: C# sends no `clock`, and `deltas` may be omitted.
        clock: optional(f, 'clock', clockOf) ?? {},
        deltas: optional(f, 'deltas', objects) ?? [],
        textState: optional(f, 'textState', str),
        textClock: optional(f, 'textClock', num),
      }
    case 'sync_step2':
      return { type, ...env, documentId: str(f, 'documentId'), operations: objects(f, 'operations') }
    case 'delta': {
      const value = getOwn(f, 'value')
      if (!isJsonValue(value) || getOwn(f, 'clientId') !== 'server') throw new Invalid()
      return {
        type,
        ...env,
        documentId: str(f, 'documentId'),
        field: str(f, 'field'),
        value,
        clock: clockOf(f, 'clock'),
        clientId: 'server',
      }
    }
    case 'delta_batch': {
      const isText = getOwn(f, 'isTextOperation')
      if (isText !== undefined && typeof isText !== 'boolean') throw new Invalid()
      return {
        type,
        ...env,
        documentId: str(f, 'documentId'),
        deltas: objects(f, 'deltas'),
        isTextOperation: isText,
      }
    }
    case 'ack':
      return { type, ...env, messageId: str(f, 'messageId') }
    case 'ping':
    case 'pong':
      return { type, ...env }
    case 'awareness_state':
      return { type, ...env, documentId: str(f, 'documentId'), states: objects(f, 'states').map(entryOf) }
    case 'awareness_update':
      return {
        type,
        ...env,
        documentId: str(f, 'documentId'),
        clientId: str(f, 'clientId'),
        state: objOrNull(f, 'state'),
        clock: num(f, 'clock'),
      }
    default:
      return undefined
  }
}
