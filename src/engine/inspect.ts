import type { EngineContext } from './context.js'
import { releaseTopic } from './documents.js'
import type { DocumentSubscriber, EvictionBlocker } from './types.js'

/** Queries and operator inputs for looking inside a running engine (the inspector). */

/** The connections subscribed to a document, in subscription order; empty when it is not in memory. */
export function documentSubscribers(ctx: EngineContext, documentId: string): DocumentSubscriber[] {
  const entry = ctx.documents.get(documentId)
  if (!entry) return []
  const subscribers: DocumentSubscriber[] = []
  for (const conn of entry.subscribers) {
    const connection = ctx.connections.get(conn)
    if (!connection || connection.closed) continue
    subscribers.push({
      connectionId: conn,
      userId: connection.principal?.userId,
      format: connection.format,
      dialect: connection.dialect,
    })
  }
  return subscribers
}

/**
 * What keeps a document in memory, or undefined when it may leave now. Writes applied but not
 * committed by the store (dirty, in a batch in flight, a clock not yet persisted) keep it: the
 * store is the only other copy, so evicting them would lose them.
 */
export function evictionBlocker(ctx: EngineContext, documentId: string): EvictionBlocker | undefined {
  const entry = ctx.documents.get(documentId)
  if (entry?.status !== 'ready') return 'not-loaded'
  if (entry.subscribers.size > 0 || (ctx.rooms.get(documentId)?.subscribers.size ?? 0) > 0)
    return 'subscribed'
  const unflushed =
    entry.touched ||
    entry.uncommitted !== undefined ||
    entry.dirty.size > 0 ||
    entry.inFlight > 0 ||
    entry.doc?.clockVersion !== entry.persistedClockVersion
  return unflushed ? 'unflushed' : undefined
}

/** Drops the document from memory when nothing blocks it (`evictionBlocker`); the next use loads it again. */
export function evictDocument(ctx: EngineContext, documentId: string): void {
  if (evictionBlocker(ctx, documentId) !== undefined) return
  ctx.documents.delete(documentId)
  releaseTopic(ctx, documentId)
  ctx.emit({ type: 'document-evicted', documentId })
}
