import { sanitizeClock } from './clock.js'
import { batchOpBadField, batchOpWithoutValue, ERRORS, protocolError, tooManyBatchOps } from './errors.js'
import { isJsonObject, isJsonValue, isPlainObject, isTombstone } from './guards.js'
import { getOwn } from './own.js'
import type {
  BatchOp,
  DeltaBatchMessage,
  DeltaMessage,
  FieldOp,
  FieldWrite,
  JsonObject,
  JsonValue,
  MessageEnvelope,
  TextStateOp,
  ValidationResult,
} from './types.js'

/** Most ops one `delta_batch` may carry. */
export const MAX_BATCH_OPS = 10_000

function writeOf(field: string, value: JsonValue): FieldWrite {
  return isTombstone(value) ? { field, value: null, deleted: true } : { field, value, deleted: false }
}

/**
 * `delta` in both shapes (docs/protocol.md §5.7): a `delta: {field: value}` map (second dialect) or
 * `field` + `value` (SDK 0.1.1). `documentId` is already validated.
 */
export function validateDelta(
  fields: Record<string, unknown>,
  envelope: MessageEnvelope,
  documentId: string,
): ValidationResult {
  const writes: FieldWrite[] = []
  const map = getOwn(fields, 'delta')
  if (map !== undefined && map !== null) {
    if (!isPlainObject(map)) return invalidDelta(documentId)
    for (const field of Object.keys(map)) {
      const value = map[field]
      if (field.length === 0 || !isJsonValue(value)) return invalidDelta(documentId)
      writes.push(writeOf(field, value))
    }
  } else {
    const field = getOwn(fields, 'field')
    const value = getOwn(fields, 'value')
    if (typeof field !== 'string' || field.length === 0 || !isJsonValue(value))
      return invalidDelta(documentId)
    writes.push(writeOf(field, value))
  }
  if (writes.length === 0) return invalidDelta(documentId)

  const message: DeltaMessage = { type: 'delta', timestamp: envelope.timestamp, documentId, writes }
  if (envelope.id !== undefined) message.id = envelope.id
  const clock = sanitizeClock(getOwn(fields, 'vectorClock')) ?? sanitizeClock(getOwn(fields, 'clock'))
  if (clock !== undefined) message.clock = clock
  const messageId = getOwn(fields, 'messageId')
  if (typeof messageId === 'string') message.messageId = messageId
  return { ok: true, message }
}

/** Built only on refusal: every valid `delta` would otherwise pay for two objects it never uses. */
function invalidDelta(documentId: string): ValidationResult {
  return { ok: false, error: protocolError(ERRORS.invalidDelta, 'INVALID_MESSAGE', 'delta', documentId) }
}

/** `delta_batch` (docs/protocol.md §5.8, §10.1): every op classified as field, text-state or relay. */
export function validateDeltaBatch(
  fields: Record<string, unknown>,
  envelope: MessageEnvelope,
  documentId: string,
): ValidationResult {
  const fail = (text: string): ValidationResult => ({
    ok: false,
    error: protocolError(text, 'INVALID_MESSAGE', 'delta_batch', documentId),
  })
  const deltas = getOwn(fields, 'deltas')
  if (!Array.isArray(deltas) || deltas.length === 0) return fail(ERRORS.invalidBatch)
  if (deltas.length > MAX_BATCH_OPS) return fail(tooManyBatchOps(MAX_BATCH_OPS))

  const ops: BatchOp[] = []
  for (let i = 0; i < deltas.length; i++) {
    const op: unknown = deltas[i]
    if (!isJsonObject(op)) return fail(ERRORS.invalidBatch)
    const kind = getOwn(op, 'type')
    if (kind === 'text-state') {
      // Without a state there is nothing to merge or relay: skipped, as in the reference.
      const state = getOwn(op, 'state')
      if (typeof state === 'string' && state.length > 0) ops.push(textStateOp(op, state, documentId))
      continue
    }
    // Legacy position-based text ops are relayed even if they name a field (reference order).
    const field = kind === 'text' ? undefined : getOwn(op, 'field')
    if (field === undefined) {
      ops.push({ kind: 'relay', raw: op })
      continue
    }
    if (typeof field !== 'string' || field.length === 0) return fail(batchOpBadField(i))
    const value = getOwn(op, 'value')
    if (!isJsonValue(value)) return fail(batchOpWithoutValue(i))
    ops.push(fieldOp(op, field, value))
  }

  const message: DeltaBatchMessage = { type: 'delta_batch', ...envelope, documentId, ops }
  const messageId = getOwn(fields, 'messageId')
  if (typeof messageId === 'string') message.messageId = messageId
  return { ok: true, message }
}

function textStateOp(op: JsonObject, state: string, batchDocumentId: string): TextStateOp {
  // The sender is allowed (or not) to write the batch's document, whatever the op names.
  const result: TextStateOp = { kind: 'text-state', documentId: batchDocumentId, state, raw: op }
  const clientId = getOwn(op, 'clientId')
  if (typeof clientId === 'string') result.clientId = clientId
  return result
}

function fieldOp(op: JsonObject, field: string, value: JsonValue): FieldOp {
  const result: FieldOp = { kind: 'field', ...writeOf(field, value) }
  const clock = sanitizeClock(getOwn(op, 'clock'))
  if (clock !== undefined) result.clock = clock
  const clientId = getOwn(op, 'clientId')
  if (typeof clientId === 'string') result.clientId = clientId
  return result
}
