import type { Dot, Register, Stamp } from '../crdt/types.js'
import type { OwnedAwarenessEntry } from '../engine/types.js'
import { isValidClientId } from '../protocol/client-id.js'
import { isValidDocumentId } from '../protocol/document-id.js'
import { isJsonObject, isJsonValue, isPlainObject } from '../protocol/guards.js'
import { getOwn } from '../protocol/own.js'

/**
 * What nodes tell each other, as JSON text: `{"v":1,"type":...}`. A receiver drops (never throws
 * on) anything it cannot validate, including messages of a newer version, so a rolling upgrade
 * degrades to "that node's updates arrive on the next resync" instead of corrupting state.
 */
export const CLUSTER_MESSAGE_VERSION = 1

/** Longest presence owner accepted (`user:` and a user id, or an anonymous connection's key). */
const MAX_OWNER_LENGTH = 1024

/** Registers a node applied (with their stamps): every holder merges them by the same LWW rule. */
export interface RegistersMessage {
  type: 'registers'
  documentId: string
  registers: Register[]
}
/**
 * One presence change (`state: null` = left). `entry.owner` was added within version 1: older
 * nodes ignore it, and entries from older nodes arrive without one (see `OwnedAwarenessEntry`).
 */
export interface AwarenessMessage {
  type: 'awareness'
  documentId: string
  entry: OwnedAwarenessEntry
}
/** Live revocation, applied by every node to its own connections. */
export interface RevokeMessage {
  type: 'revoke'
  userId?: string
  documentId?: string
}
/**
 * A node just subscribed to the document: holders answer on `node:<replyTo>` with their present
 * clients, so a new subscriber anywhere sees the full awareness state.
 */
export interface AwarenessQueryMessage {
  type: 'awareness-query'
  documentId: string
  replyTo: string
}
export interface AwarenessSnapshotMessage {
  type: 'awareness-snapshot'
  documentId: string
  entries: OwnedAwarenessEntry[]
}
/** After an outage: holders answer on `node:<replyTo>` with a `registers` message of the document. */
export interface ResyncRequestMessage {
  type: 'resync-request'
  documentId: string
  replyTo: string
}

/** A document was deleted (`sync.documents.delete`): holders drop it from memory. */
export interface DocumentDeletedMessage {
  type: 'document-deleted'
  documentId: string
}

/** A message between nodes. */
export type ClusterMessage =
  | DocumentDeletedMessage
  | RegistersMessage
  | AwarenessMessage
  | RevokeMessage
  | AwarenessQueryMessage
  | AwarenessSnapshotMessage
  | ResyncRequestMessage

/** A cluster message as the text a broker carries. */
export function encodeClusterMessage(message: ClusterMessage): string {
  return JSON.stringify({ v: CLUSTER_MESSAGE_VERSION, ...message })
}

/** The message, or `undefined` for anything malformed, unknown or of another version. */
export function decodeClusterMessage(raw: string): ClusterMessage | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    return undefined
  }
  if (!isPlainObject(parsed) || getOwn(parsed, 'v') !== CLUSTER_MESSAGE_VERSION) return undefined
  const type = getOwn(parsed, 'type')
  const documentId = getOwn(parsed, 'documentId')
  switch (type) {
    case 'registers': {
      const registers = decodeList(getOwn(parsed, 'registers'), decodeRegister)
      if (!isValidDocumentId(documentId) || !registers) return undefined
      return { type, documentId, registers }
    }
    case 'awareness': {
      const entry = decodeAwarenessEntry(getOwn(parsed, 'entry'))
      if (!isValidDocumentId(documentId) || !entry) return undefined
      return { type, documentId, entry }
    }
    case 'awareness-snapshot': {
      const entries = decodeList(getOwn(parsed, 'entries'), decodeAwarenessEntry)
      if (!isValidDocumentId(documentId) || !entries) return undefined
      return { type, documentId, entries }
    }
    case 'document-deleted':
      return isValidDocumentId(documentId) ? { type, documentId } : undefined
    case 'awareness-query':
    case 'resync-request': {
      const replyTo = getOwn(parsed, 'replyTo')
      if (!isValidDocumentId(documentId) || !isNonEmptyString(replyTo)) return undefined
      return { type, documentId, replyTo }
    }
    case 'revoke': {
      const userId = getOwn(parsed, 'userId')
      const message: RevokeMessage = { type }
      if (userId !== undefined) {
        if (!isNonEmptyString(userId)) return undefined
        message.userId = userId
      }
      if (documentId !== undefined) {
        if (!isValidDocumentId(documentId)) return undefined
        message.documentId = documentId
      }
      // A revocation naming nobody would be a no-op at best; refuse it as malformed.
      return message.userId === undefined && message.documentId === undefined ? undefined : message
    }
    default:
      return undefined
  }
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/** Every element valid, or `undefined` (one bad register poisons the batch: it is a bug upstream). */
function decodeList<T>(value: unknown, decode: (item: unknown) => T | undefined): T[] | undefined {
  if (!Array.isArray(value)) return undefined
  const out: T[] = []
  for (const item of value) {
    const decoded = decode(item)
    if (decoded === undefined) return undefined
    out.push(decoded)
  }
  return out
}

function decodeStamp(value: unknown): Stamp | undefined {
  if (!isPlainObject(value)) return undefined
  const ms = getOwn(value, 'ms')
  const counter = getOwn(value, 'counter')
  const node = getOwn(value, 'node')
  if (!isCount(ms) || !isCount(counter) || !isNonEmptyString(node)) return undefined
  return { ms, counter, node }
}

function decodeDot(value: unknown): Dot | undefined {
  if (!isPlainObject(value)) return undefined
  const node = getOwn(value, 'node')
  const seq = getOwn(value, 'seq')
  if (!isNonEmptyString(node) || !isCount(seq)) return undefined
  return { node, seq }
}

function decodeRegister(value: unknown): Register | undefined {
  if (!isPlainObject(value)) return undefined
  const field = getOwn(value, 'field')
  const deleted = getOwn(value, 'deleted')
  // `JSON.stringify` drops an own `value: undefined`, so absence is not a JSON null.
  const fieldValue = getOwn(value, 'value')
  const stamp = decodeStamp(getOwn(value, 'stamp'))
  const dot = decodeDot(getOwn(value, 'dot'))
  if (typeof field !== 'string' || typeof deleted !== 'boolean' || !stamp || !dot) return undefined
  if (fieldValue === undefined || !isJsonValue(fieldValue)) return undefined
  if (deleted && fieldValue !== null) return undefined
  return { field, value: fieldValue, deleted, stamp, dot }
}

function decodeAwarenessEntry(value: unknown): OwnedAwarenessEntry | undefined {
  if (!isPlainObject(value)) return undefined
  const clientId = getOwn(value, 'clientId')
  const state = getOwn(value, 'state')
  const clock = getOwn(value, 'clock')
  const owner = getOwn(value, 'owner')
  // The same client id rule as the client-facing validator: a peer must not make a node keep more.
  if (!isValidClientId(clientId) || typeof clock !== 'number' || !Number.isFinite(clock)) return undefined
  if (state !== null && !isJsonObject(state)) return undefined
  if (owner === undefined) return { clientId, state, clock }
  if (!isNonEmptyString(owner) || owner.length > MAX_OWNER_LENGTH) return undefined
  return { clientId, state, clock, owner }
}
