import type { EngineContext } from './context.js'
import type { Connection, DocumentEntry, ParkableMessage } from './state.js'
import { SubscriberSet } from './subscribers.js'
import type { ConnectionId } from './types.js'

/**
 * Documents in memory: a request for a document that is not ready waits (parked, bounded) while
 * it loads; a loaded one is released when nothing needs it any more.
 */

/**
 * The document entry when it is in memory and ready. Otherwise parks `message` (bounded, answered
 * `LIMIT_EXCEEDED` beyond) and starts the load on first need; the message runs again through
 * `dispatch` when the document arrives (`resolve.ts`).
 */
export function readyOrPark(
  ctx: EngineContext,
  connection: Connection,
  message: ParkableMessage,
  bytes = 0,
): DocumentEntry | undefined {
  const documentId = message.documentId
  const existing = ctx.documents.get(documentId)
  if (existing?.status === 'ready') {
    existing.lastActive = ctx.now
    return existing
  }
  const entry = existing ?? startLoad(ctx, documentId, connection.id)
  if (entry.parked.length >= ctx.limits.maxParkedPerDocument) {
    ctx.sendError(
      connection.id,
      'Server busy: too many requests waiting for this document',
      'LIMIT_EXCEEDED',
      { documentId },
    )
    return undefined
  }
  entry.parked.push({ kind: 'message', connection, message, bytes })
  return undefined
}

/**
 * A new entry, loading: the cluster topic is subscribed before the load is asked for, so that no
 * remote update can fall between the load and the subscription. `conn` is the connection whose
 * request needs it (its context reaches `onLoadDocument`).
 */
export function startLoad(ctx: EngineContext, documentId: string, conn?: ConnectionId): DocumentEntry {
  const entry = newEntry(ctx, documentId, 'loading')
  ctx.effect({ kind: 'subscribe-topic', documentId })
  ctx.effect(conn === undefined ? { kind: 'load', documentId } : { kind: 'load', documentId, conn })
  return entry
}

/** A new entry in `ctx.documents`, without a document yet. */
export function newEntry(
  ctx: EngineContext,
  documentId: string,
  status: DocumentEntry['status'],
): DocumentEntry {
  const entry: DocumentEntry = {
    id: documentId,
    status,
    doc: undefined,
    deletion: undefined,
    uncommitted: undefined,
    parked: [],
    subscribers: new SubscriberSet(),
    pendingEcho: new Set(),
    dirty: new Map(),
    changesToAnnounce: undefined,
    writer: undefined,
    writers: undefined,
    touched: false,
    persistedClockVersion: 0,
    textStates: new Map(),
    inFlight: 0,
    bytes: 0,
    fieldBytes: new Map(),
    lastActive: ctx.now,
  }
  ctx.documents.set(documentId, entry)
  return entry
}

/** Queues the document for the next flush (echo, persist, `document-change`), once per turn. */
export function touch(ctx: EngineContext, entry: DocumentEntry): void {
  if (entry.touched) return
  entry.touched = true
  ctx.touched.push(entry)
}

/** The document's cluster topic is no longer needed once neither it nor its presence is held. */
export function releaseTopic(ctx: EngineContext, documentId: string): void {
  if (!ctx.documents.has(documentId) && !ctx.rooms.has(documentId)) {
    ctx.effect({ kind: 'unsubscribe-topic', documentId })
  }
}

/** Keeps at most `maxIdleDocuments` documents nobody uses in memory, least recently active first. */
export function evictIdleDocuments(ctx: EngineContext): void {
  // Fewer documents than may be kept idle: nothing to evict, and no walk over them every tick.
  if (ctx.documents.size <= ctx.limits.maxIdleDocuments) return
  const idle = [...ctx.documents.values()].filter(
    (entry) =>
      entry.status === 'ready' &&
      entry.subscribers.size === 0 &&
      entry.inFlight === 0 &&
      entry.dirty.size === 0 &&
      entry.doc?.clockVersion === entry.persistedClockVersion &&
      !entry.touched,
  )
  const excess = idle.length - ctx.limits.maxIdleDocuments
  if (excess <= 0) return
  idle.sort((a, b) => a.lastActive - b.lastActive)
  for (const entry of idle.slice(0, excess)) {
    ctx.documents.delete(entry.id)
    releaseTopic(ctx, entry.id)
    ctx.emit({ type: 'document-evicted', documentId: entry.id })
  }
}
