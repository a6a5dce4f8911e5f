import { authorize } from './access.js'
import type { EngineContext } from './context.js'
import { sendInitialSync } from './initial-sync.js'
import { leaveRoom } from './presence.js'
import { joinRoom, pruneRoom, withinDocumentCap } from './rooms.js'
import type { Connection, DocumentEntry } from './state.js'

/**
 * Who watches which document. A subscription to a document always comes with one to its presence
 * room, which SDK reconnects rely on (they never send `awareness_subscribe` again).
 */

/** Adds a document subscription and the presence one; false (client told) past the per-connection cap. */
export function subscribe(ctx: EngineContext, connection: Connection, entry: DocumentEntry): boolean {
  // A write parked while loading still applies after its connection closed; nobody to subscribe.
  if (connection.closed) return true
  if (!withinDocumentCap(ctx, connection, connection.subscriptions, entry.id)) return false
  if (!connection.subscriptions.has(entry.id)) {
    connection.subscriptions.add(entry.id)
    entry.subscribers.add(connection.id)
    ctx.emit({ type: 'subscribed', conn: connection.id, documentId: entry.id })
  }
  joinRoom(ctx, connection, entry.id)
  return true
}

/**
 * A write from a connection that never subscribed subscribes it (as SyncKit does), and it gets
 * the document first: echoes carry the whole document clock, so a client that adopted them
 * without the state would later resync by a clock that claims fields it never received.
 * Only if it may read the document: a write-only writer (a drop box) gets its ack and errors.
 */
export function subscribeForWrite(
  ctx: EngineContext,
  connection: Connection,
  entry: DocumentEntry,
  requestId: string | undefined,
): boolean {
  if (connection.closed || connection.subscriptions.has(entry.id)) return true
  if (!authorize(ctx, connection, 'read', entry.id)) return true
  if (!subscribe(ctx, connection, entry)) return false
  sendInitialSync(ctx, connection, entry, requestId ?? ctx.options.newId())
  return true
}

/**
 * Ends the connection's subscription to the document and to its presence room; the presence it
 * announced there leaves too, and a room left empty is dropped.
 */
export function unsubscribe(ctx: EngineContext, connection: Connection, documentId: string): void {
  if (connection.subscriptions.delete(documentId)) {
    const entry = ctx.documents.get(documentId)
    entry?.subscribers.delete(connection.id)
    if (entry) entry.lastActive = ctx.now
    ctx.emit({ type: 'unsubscribed', conn: connection.id, documentId })
  }
  if (connection.awarenessRooms.delete(documentId)) {
    const room = ctx.rooms.get(documentId)
    if (room) {
      room.subscribers.delete(connection.id)
      leaveRoom(ctx, connection, room)
      pruneRoom(ctx, room)
    }
  }
}

/** Every document the connection watches, each once: its subscriptions and its presence rooms. */
export function watchedDocuments(connection: Connection): Set<string> {
  return new Set([...connection.subscriptions, ...connection.awarenessRooms])
}

/** Drops what `connection` watches but may no longer read (`ACCESS_REVOKED` per document). */
export function dropUnreadable(
  ctx: EngineContext,
  connection: Connection,
  documentIds: Iterable<string>,
): void {
  for (const documentId of documentIds) {
    if (authorize(ctx, connection, 'read', documentId)) continue
    unsubscribe(ctx, connection, documentId)
    ctx.sendError(connection.id, 'Access revoked', 'ACCESS_REVOKED', { documentId })
  }
}
