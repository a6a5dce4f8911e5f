import type { EngineContext } from './context.js'
import { newEntry, releaseTopic, touch } from './documents.js'
import type { DocumentEntry, ParkedItem } from './state.js'
import { unsubscribe } from './subscriptions.js'
import type { ServerRequest } from './types.js'

/**
 * Deleting a document (`sync.documents.delete`). While the store removes it the entry is
 * `deleting`: requests for the document wait as while it loads, and nothing of it is flushed.
 * The store is asked only once no persist batch of the document is in flight, so no save lands
 * after the delete and brings registers back. Then its subscribers get `error DOCUMENT_DELETED`
 * and are unsubscribed, the other nodes are told (`publish-delete`), and the requests that
 * waited run again on a fresh load (an empty document).
 */

/** Starts the delete; `entry` undefined: the document is not in memory. */
export function beginDelete(
  ctx: EngineContext,
  existing: DocumentEntry | undefined,
  request: Extract<ServerRequest, { op: 'delete' }>,
): void {
  const entry = existing ?? newEntry(ctx, request.documentId, 'deleting')
  entry.status = 'deleting'
  entry.deletion = { request, hadRegisters: (entry.doc?.size ?? 0) > 0, requested: false }
  if (entry.inFlight === 0) requestDelete(ctx, entry)
}

/** Asks the store, once (called again when the last batch in flight settles). */
export function requestDelete(ctx: EngineContext, entry: DocumentEntry): void {
  const deletion = entry.deletion
  if (!deletion || deletion.requested) return
  deletion.requested = true
  ctx.effect({ kind: 'delete', documentId: entry.id })
}

/** The store removed it: subscribers are told, the caller answered. Returns the requests to run again. */
export function documentDeleted(ctx: EngineContext, documentId: string, existed: boolean): ParkedItem[] {
  const entry = ctx.documents.get(documentId)
  const deletion = entry?.deletion
  if (!entry || !deletion) return []
  const told = dropDocument(ctx, entry)
  const found = existed || deletion.hadRegisters
  ctx.effect({ kind: 'server-reply', id: deletion.request.id, reply: { ok: true, existed: found } })
  if (found) {
    ctx.emit({ type: 'document-deleted', documentId, origin: 'local', actor: deletion.request.actor })
    ctx.effect({ kind: 'publish-delete', documentId })
  }
  // Their connections were told already; whatever they sent meanwhile was meant for the old document.
  return entry.parked.splice(0).filter((item) => item.kind !== 'message' || !told.has(item.connection.id))
}

/** The store failed: the document stays as it was. Returns the requests to run again. */
export function deleteFailed(ctx: EngineContext, documentId: string, error: string): ParkedItem[] {
  const entry = ctx.documents.get(documentId)
  const deletion = entry?.deletion
  if (!entry || !deletion) return []
  entry.deletion = undefined
  const message = `Document not deleted: ${error}`
  ctx.effect({
    kind: 'server-reply',
    id: deletion.request.id,
    reply: { ok: false, code: 'STORE_FAILED', message },
  })
  if (entry.doc) {
    entry.status = 'ready'
    // Writes applied before the delete began were held back from the flush: persist them now.
    touch(ctx, entry)
  } else {
    ctx.documents.delete(documentId)
    releaseTopic(ctx, documentId)
  }
  return entry.parked.splice(0)
}

/**
 * Another node deleted the document: it leaves memory here too, and its subscribers are told. A
 * document still loading is left alone (its load may have read the store before the delete, the
 * same window a write racing the delete on another node has).
 */
export function remoteDeleted(ctx: EngineContext, documentId: string): ParkedItem[] {
  const entry = ctx.documents.get(documentId)
  if (entry?.status !== 'ready') return []
  dropDocument(ctx, entry)
  ctx.emit({ type: 'document-deleted', documentId, origin: 'remote' })
  return entry.parked.splice(0)
}

/** Unsubscribes and tells every subscriber, then forgets the document. Returns who was told. */
function dropDocument(ctx: EngineContext, entry: DocumentEntry): Set<string> {
  const told = new Set<string>()
  for (const conn of [...entry.subscribers]) {
    const connection = ctx.connections.get(conn)
    if (!connection) continue
    unsubscribe(ctx, connection, entry.id)
    ctx.sendError(conn, 'Document deleted', 'DOCUMENT_DELETED', { documentId: entry.id })
    told.add(conn)
  }
  ctx.documents.delete(entry.id)
  releaseTopic(ctx, entry.id)
  return told
}
