import { isValidClientId } from './client-id.js'
import { MAX_CLOCK_VALUE, sanitizeClock } from './clock.js'
import { validateDocumentId } from './document-id.js'
import { ERRORS, invalidMessageType, protocolError } from './errors.js'
import { isJsonObject } from './guards.js'
import { getOwn } from './own.js'
import type {
  AckMessage,
  AuthMessage,
  ClientMessageType,
  MessageEnvelope,
  SyncRequestMessage,
  UnsupportedMessage,
  ValidationResult,
} from './types.js'
import { validateDelta, validateDeltaBatch } from './validate-writes.js'

const CLIENT_TYPES: ReadonlySet<string> = new Set<ClientMessageType>([
  'auth',
  'connect',
  'subscribe',
  'unsubscribe',
  'sync_request',
  'sync_step1',
  'delta',
  'delta_batch',
  'delta_batch_chunk',
  'ack',
  'ping',
  'pong',
  'awareness_subscribe',
  'awareness_update',
  'snapshot_request',
  'snapshot_upload',
])

const DOCUMENT_TYPES: ReadonlySet<string> = new Set<ClientMessageType>([
  'subscribe',
  'unsubscribe',
  'sync_request',
  'sync_step1',
  'delta',
  'delta_batch',
  'awareness_subscribe',
  'awareness_update',
])

/** True for a message type clients may send. */
export function isClientMessageType(type: string): type is ClientMessageType {
  return CLIENT_TYPES.has(type)
}

/**
 * Validate the fields of one client message and build its typed form. `fields` are assumed to
 * come from `JSON.parse` (see `parseFrame`). Errors name the type, and the document when its id
 * is valid, so the engine can answer precisely.
 */
export function validateClientMessage(
  type: string,
  fields: Record<string, unknown>,
  envelope: { id?: string; timestamp: number },
): ValidationResult {
  const env: MessageEnvelope =
    typeof envelope.id === 'string'
      ? { id: envelope.id, timestamp: envelope.timestamp }
      : { timestamp: envelope.timestamp }
  return validateWithEnvelope(type, fields, env)
}

/**
 * `validateClientMessage` without the copy of the envelope, for the decoder, whose envelope is
 * fresh and holds only `id` (when set) and `timestamp`: one object less per frame. Internal: the
 * package entry re-exports `validateClientMessage` only.
 */
export function validateWithEnvelope(
  type: string,
  fields: Record<string, unknown>,
  env: MessageEnvelope,
): ValidationResult {
  if (!isClientMessageType(type)) {
    return { ok: false, error: protocolError(invalidMessageType(type), 'INVALID_MESSAGE', type) }
  }
  if (!DOCUMENT_TYPES.has(type)) return validateDocumentless(type, fields, env)

  const rawId = getOwn(fields, 'documentId')
  const idError = validateDocumentId(rawId)
  if (idError !== undefined || typeof rawId !== 'string') {
    return {
      ok: false,
      error: protocolError(idError ?? ERRORS.invalidDocumentId, 'INVALID_DOCUMENT_ID', type),
    }
  }
  const documentId = rawId
  switch (type) {
    case 'subscribe':
    case 'unsubscribe':
    case 'awareness_subscribe':
      return { ok: true, message: { type, ...env, documentId } }
    case 'sync_request': {
      const message: SyncRequestMessage = { type, ...env, documentId }
      const vectorClock = sanitizeClock(getOwn(fields, 'vectorClock'))
      if (vectorClock !== undefined) message.vectorClock = vectorClock
      return { ok: true, message }
    }
    case 'sync_step1': {
      const stateVector = sanitizeClock(getOwn(fields, 'stateVector')) ?? {}
      return { ok: true, message: { type, ...env, documentId, stateVector } }
    }
    case 'delta':
      return validateDelta(fields, env, documentId)
    case 'delta_batch':
      return validateDeltaBatch(fields, env, documentId)
    case 'awareness_update':
      return validateAwarenessUpdate(fields, env, documentId)
    default:
      return validateDocumentless(type, fields, env)
  }
}

function validateAwarenessUpdate(
  fields: Record<string, unknown>,
  env: MessageEnvelope,
  documentId: string,
): ValidationResult {
  const clientId = getOwn(fields, 'clientId')
  const clock = getOwn(fields, 'clock')
  const state = getOwn(fields, 'state')
  if (
    !isValidClientId(clientId) ||
    typeof clock !== 'number' ||
    !Number.isSafeInteger(clock) ||
    clock < 0 ||
    clock > MAX_CLOCK_VALUE ||
    (state !== null && !isJsonObject(state))
  ) {
    return {
      ok: false,
      error: protocolError(ERRORS.invalidAwareness, 'INVALID_MESSAGE', 'awareness_update', documentId),
    }
  }
  return { ok: true, message: { type: 'awareness_update', ...env, documentId, clientId, state, clock } }
}

function validateDocumentless(
  type: ClientMessageType,
  fields: Record<string, unknown>,
  env: MessageEnvelope,
): ValidationResult {
  switch (type) {
    case 'auth': {
      const message: AuthMessage = { type, ...env }
      const token = getOwn(fields, 'token')
      if (typeof token === 'string') message.token = token
      const apiKey = getOwn(fields, 'apiKey')
      if (typeof apiKey === 'string') message.apiKey = apiKey
      return { ok: true, message }
    }
    case 'ack': {
      const message: AckMessage = { type, ...env }
      const messageId = getOwn(fields, 'messageId')
      if (typeof messageId === 'string') message.messageId = messageId
      return { ok: true, message }
    }
    case 'connect':
    case 'ping':
    case 'pong':
      return { ok: true, message: { type, ...env } }
    case 'delta_batch_chunk':
      return validateChunk(fields, env)
    case 'snapshot_request':
    case 'snapshot_upload': {
      const message: UnsupportedMessage = { type, ...env }
      const documentId = getOwn(fields, 'documentId')
      if (validateDocumentId(documentId) === undefined && typeof documentId === 'string') {
        message.documentId = documentId
      }
      return { ok: true, message }
    }
    default:
      // Unreachable: every document-bearing type is handled by the caller.
      return { ok: false, error: protocolError(invalidMessageType(type), 'INVALID_MESSAGE', type) }
  }
}

function validateChunk(fields: Record<string, unknown>, env: MessageEnvelope): ValidationResult {
  const chunkId = getOwn(fields, 'chunkId')
  const totalChunks = getOwn(fields, 'totalChunks')
  const chunkIndex = getOwn(fields, 'chunkIndex')
  const data = getOwn(fields, 'data')
  if (
    typeof chunkId !== 'string' ||
    chunkId.length === 0 ||
    typeof totalChunks !== 'number' ||
    !Number.isSafeInteger(totalChunks) ||
    totalChunks < 1 ||
    typeof chunkIndex !== 'number' ||
    !Number.isSafeInteger(chunkIndex) ||
    chunkIndex < 0 ||
    chunkIndex >= totalChunks ||
    typeof data !== 'string'
  ) {
    return {
      ok: false,
      error: protocolError(ERRORS.invalidFormat, 'INVALID_MESSAGE', 'delta_batch_chunk'),
    }
  }
  return { ok: true, message: { type: 'delta_batch_chunk', ...env, chunkId, totalChunks, chunkIndex, data } }
}
