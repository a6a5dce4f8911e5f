import { clockMax } from '../crdt/index.js'
import type { Register } from '../crdt/types.js'
import { utf8Length } from '../protocol/index.js'
import type { FieldWrite, JsonObject, VectorClock } from '../protocol/types.js'
import { authorize } from './access.js'
import { noteWriter } from './changes.js'
import type { EngineContext } from './context.js'
import { touch } from './documents.js'
import { rbacPolicy } from './rbac.js'
import type { Connection, DocumentEntry } from './state.js'
import { refuseInvalidWrites } from './validate-writes.js'
import { TOMBSTONE_VALUE, wireClock, wireValue } from './wire.js'

export interface IncomingWrite extends FieldWrite {
  /** The client's clock for this write (op clock or message clock). */
  clock?: VectorClock
}

/** What a field costs against the quotas: its name plus its value's JSON (tombstones: the name). */
export function registerBytes(field: string, value: unknown, deleted: boolean): number {
  return utf8Length(field) + (deleted ? 0 : jsonBytes(value))
}

/** UTF-8 length of `JSON.stringify(value)`; scalars without building the text. */
function jsonBytes(value: unknown): number {
  switch (typeof value) {
    case 'number':
      // The JSON of a finite number is its `String` form (ASCII); non-finite ones are `null`.
      return Number.isFinite(value) ? String(value).length : 4
    case 'boolean':
      return value ? 4 : 5
    case 'object':
      if (value === null) return 4
      break
  }
  return utf8Length(JSON.stringify(value) ?? '')
}

/** A quota refusal: the message for the writer and the details of its `LIMIT_EXCEEDED` error. */
export interface QuotaRefusal {
  message: string
  details: JsonObject
}

/**
 * Quotas are checked for the whole message before anything is applied: a write is all or nothing.
 * Returns each write's size (measured once, reused when it is applied), or undefined if refused.
 */
function measureWithinQuota(
  ctx: EngineContext,
  connection: Connection,
  entry: DocumentEntry,
  writes: readonly IncomingWrite[],
  reservedBytes: number,
  messageId: string | undefined,
): number[] | undefined {
  const measured = measureWrites(ctx, entry, writes, reservedBytes)
  if (Array.isArray(measured)) return measured
  const details = messageId === undefined ? measured.details : { ...measured.details, messageId }
  ctx.sendError(connection.id, measured.message, 'LIMIT_EXCEEDED', details)
  return undefined
}

/**
 * Each write's quota size, or the refusal when the writes together pass a limit
 * (`maxFieldValueBytes`, `maxFieldsPerDocument`, `maxDocumentBytes`). Shared by client writes and
 * the server-side API.
 */
export function measureWrites(
  ctx: EngineContext,
  entry: DocumentEntry,
  writes: readonly { field: string; value?: unknown; deleted: boolean }[],
  reservedBytes: number,
): number[] | QuotaRefusal {
  const { maxFieldValueBytes, maxFieldsPerDocument } = ctx.limits
  const doc = entry.doc
  let newFields = 0
  let growth = reservedBytes
  const seen = writes.length > 1 ? new Set<string>() : undefined
  const sizes: number[] = []
  for (const write of writes) {
    const bytes = registerBytes(write.field, write.value, write.deleted)
    sizes.push(bytes)
    if (bytes > maxFieldValueBytes) {
      return {
        message: `Field value too large: ${write.field.slice(0, 128)} (${bytes} bytes, max ${maxFieldValueBytes})`,
        details: { documentId: entry.id, field: write.field.slice(0, 128) },
      }
    }
    if (seen?.has(write.field)) continue
    seen?.add(write.field)
    if (!doc?.get(write.field)) newFields++
    growth += bytes - (entry.fieldBytes.get(write.field) ?? 0)
  }
  if (newFields > 0 && (doc?.size ?? 0) + newFields > maxFieldsPerDocument) {
    return {
      message: `Document field limit reached (max ${maxFieldsPerDocument} fields)`,
      details: { documentId: entry.id },
    }
  }
  // Inline first: the common write does not grow the document past its quota.
  const max = ctx.limits.maxDocumentBytes
  if (growth <= 0 || entry.bytes + growth <= max) return sizes
  return { message: `Document size limit reached (max ${max} bytes)`, details: { documentId: entry.id } }
}

/** False (and the writer told) when growing the document by `growth` bytes passes `maxDocumentBytes`. */
export function withinDocumentQuota(
  ctx: EngineContext,
  connection: Connection,
  entry: DocumentEntry,
  growth: number,
  messageId?: string,
): boolean {
  const max = ctx.limits.maxDocumentBytes
  if (growth <= 0 || entry.bytes + growth <= max) return true
  ctx.sendError(connection.id, `Document size limit reached (max ${max} bytes)`, 'LIMIT_EXCEEDED', {
    documentId: entry.id,
    ...(messageId === undefined ? {} : { messageId }),
  })
  return false
}

/**
 * A field the policy refuses is not applied; the writer gets an error naming it and its message,
 * and, if it may read the document, the authoritative value so its optimistic replica rolls back.
 * A writer that may not read learns nothing of the stored value.
 */
function refuseField(
  ctx: EngineContext,
  connection: Connection,
  entry: DocumentEntry,
  field: string,
  messageId: string | undefined,
): void {
  ctx.sendError(connection.id, 'Permission denied', 'PERMISSION_DENIED', {
    documentId: entry.id,
    field,
    ...(messageId !== undefined ? { messageId } : {}),
  })
  rollbackEcho(ctx, connection, entry, field)
}

/**
 * The field's authoritative value, to the writer only, so its optimistic replica rolls back; a
 * writer that may not read the document learns nothing of the stored value.
 */
export function rollbackEcho(
  ctx: EngineContext,
  connection: Connection,
  entry: DocumentEntry,
  field: string,
): void {
  if (!authorize(ctx, connection, 'read', entry.id)) return
  const register = entry.doc?.get(field)
  ctx.sendTo(connection.id, {
    type: 'delta',
    documentId: entry.id,
    field,
    value: register ? wireValue(register) : TOMBSTONE_VALUE,
    clock: wireClock(ctx, entry),
    clientId: 'server',
  })
}

/**
 * Applies client writes to a ready document by LWW with a fresh stamp each, queues the echo of
 * every touched field (winning or not, so a losing writer adopts the winner), and marks the
 * applied registers for persistence and cluster publication. Returns how many writes the policy
 * let through (0: every field refused, nothing to ack), or undefined when refused whole.
 * `messageId` is named in refusals, so the writer can tell which write failed; `reservedBytes`
 * is what the same message adds besides its fields (kept text states), within the same quota.
 */
export function applyWrites(
  ctx: EngineContext,
  connection: Connection,
  entry: DocumentEntry,
  writes: readonly IncomingWrite[],
  messageClock: VectorClock | undefined,
  messageId?: string,
  reservedBytes = 0,
): number | undefined {
  const doc = entry.doc
  if (!doc) return undefined
  const sizes = measureWithinQuota(ctx, connection, entry, writes, reservedBytes, messageId)
  if (!sizes) return undefined
  if (ctx.validation && refuseInvalidWrites(ctx, connection, entry, writes, rollbackEcho, messageId)) {
    return undefined
  }
  const fieldLevel = ctx.policy !== rbacPolicy
  let accepted = 0
  for (let index = 0; index < writes.length; index++) {
    const write = writes[index] as IncomingWrite
    if (fieldLevel && !authorize(ctx, connection, 'write', entry.id, write.field)) {
      refuseField(ctx, connection, entry, write.field, messageId)
      continue
    }
    accepted++
    const stamp = ctx.hlc.now(ctx.now)
    // SDK clients adopt an echo only if its largest clock entry reaches their own counter and
    // exceeds the largest clock sent before, else (max, 'server') ties with a stale value
    // (D5, docs/protocol.md §6.4).
    const clientClock = write.clock ?? messageClock
    const clientMax = clientClock && !ctx.options.testOnly?.flatEchoClock ? clockMax(clientClock) : 0
    const minSeq = Math.max(doc.clockMax() + 1, clientMax)
    const { register, applied } = doc.localWrite({
      field: write.field,
      value: write.deleted ? null : write.value,
      deleted: write.deleted,
      stamp,
      minSeq,
    })
    entry.pendingEcho.add(write.field)
    if (applied) {
      markApplied(entry, register)
      noteWriter(entry, register.field, connection)
      setFieldBytes(entry, register.field, sizes[index] ?? 0)
    }
  }
  entry.lastActive = ctx.now
  touch(ctx, entry)
  return accepted
}

export function markApplied(entry: DocumentEntry, register: Register): void {
  entry.dirty.set(register.field, register)
  entry.changesToAnnounce?.set(register.field, register)
}

/** Records a field's quota size when a new register wins it; keeps the document total in step. */
export function setFieldBytes(entry: DocumentEntry, field: string, bytes: number): void {
  entry.bytes += bytes - (entry.fieldBytes.get(field) ?? 0)
  entry.fieldBytes.set(field, bytes)
}
