import { noteWriter } from './changes.js'
import type { EngineContext } from './context.js'
import { beginDelete } from './deletion.js'
import { startLoad, touch } from './documents.js'
import type { DocumentEntry } from './state.js'
import type { ServerReplyEffect, ServerRequest } from './types.js'
import { invalidWrites } from './validate-writes.js'
import { markApplied, measureWrites, setFieldBytes } from './writes.js'

/**
 * The server-side document API (`sync.documents`) as an input of the engine: reads, writes and
 * deletes made by the server itself. A write takes the path of a client's (quotas, the `validate`
 * option, a fresh LWW stamp, the echo to subscribers, persistence, cluster publication), names
 * the server (or the caller's actor) as its writer, and is answered once the store committed it.
 */

/** Runs the request on the document, or parks it (bounded) while the document loads. */
export function handleServerRequest(ctx: EngineContext, request: ServerRequest): void {
  const existing = ctx.documents.get(request.documentId)
  if (existing?.status === 'ready') return runServerRequest(ctx, existing, request)
  // Not in memory: nothing to load to delete it, but requests must wait until the store is done.
  if (request.op === 'delete' && !existing) return beginDelete(ctx, undefined, request)
  const entry = existing ?? startLoad(ctx, request.documentId)
  if (entry.parked.length >= ctx.limits.maxParkedPerDocument) {
    const message = 'Server busy: too many requests waiting for this document'
    return serverReply(ctx, request.id, { ok: false, code: 'STORE_FAILED', message })
  }
  entry.parked.push({ kind: 'server', request })
}

/** The request on a ready document. */
export function runServerRequest(ctx: EngineContext, entry: DocumentEntry, request: ServerRequest): void {
  entry.lastActive = ctx.now
  switch (request.op) {
    case 'read': {
      const doc = entry.doc
      const snapshot = doc && doc.size > 0 ? doc.snapshot() : undefined
      return serverReply(ctx, request.id, snapshot ? { ok: true, snapshot } : { ok: true })
    }
    case 'write':
      return serverWrite(ctx, entry, request)
    case 'delete':
      return beginDelete(ctx, entry, request)
  }
}

/** Records the answer to a server request. */
export function serverReply(ctx: EngineContext, id: number, reply: ServerReplyEffect['reply']): void {
  ctx.effect({ kind: 'server-reply', id, reply })
}

/**
 * All or nothing, as a client's message: refused whole by a quota or the `validate` option;
 * otherwise every field gets a fresh stamp, and the reply waits for the persist batch.
 */
function serverWrite(
  ctx: EngineContext,
  entry: DocumentEntry,
  request: Extract<ServerRequest, { op: 'write' }>,
): void {
  const doc = entry.doc
  if (!doc) return
  const { writes } = request
  const sizes = measureWrites(ctx, entry, writes, 0)
  if (!Array.isArray(sizes)) {
    return serverReply(ctx, request.id, {
      ok: false,
      code: 'QUOTA_EXCEEDED',
      message: sizes.message,
      details: sizes.details,
    })
  }
  const invalid = invalidWrites(ctx, entry, writes, {
    connectionId: undefined,
    principal: undefined,
    context: undefined,
  })
  const first = invalid[0]
  if (first) {
    return serverReply(ctx, request.id, {
      ok: false,
      code: 'VALIDATION_FAILED',
      message: `Invalid value for field ${first.field}`,
      details: { documentId: entry.id, field: first.field, issues: first.issues, fields: invalid },
    })
  }
  for (const [index, write] of writes.entries()) {
    const { register, applied } = doc.localWrite({
      field: write.field,
      value: write.deleted ? null : write.value,
      deleted: write.deleted,
      stamp: ctx.hlc.now(ctx.now),
      minSeq: doc.clockMax() + 1,
    })
    entry.pendingEcho.add(write.field)
    if (!applied) continue
    markApplied(entry, register)
    noteWriter(entry, register.field, request.actor)
    setFieldBytes(entry, register.field, sizes[index] ?? 0)
  }
  touch(ctx, entry)
  // Released with this turn's persist batch, whatever `durableAcks` says: the caller was promised it.
  ctx.acksThisTurn.push({ request: request.id, documentId: entry.id })
}
