import { AwarenessDocument } from '../crdt/index.js'
import type { EngineContext } from './context.js'
import type { DocumentIds } from './document-ids.js'
import { releaseTopic } from './documents.js'
import type { AwarenessRoom, Connection } from './state.js'
import { SubscriberSet } from './subscribers.js'

/**
 * Presence rooms, one per document: who watches the presence of a document. A room exists while
 * someone watches it or is present in it.
 */

/**
 * The document's room, created on first need. A new room asks for the document's cluster topic
 * when the document itself is not held: presence crosses nodes on that topic, even for watchers
 * of presence only.
 */
export function ensureRoom(ctx: EngineContext, documentId: string): AwarenessRoom {
  let room = ctx.rooms.get(documentId)
  if (!room) {
    room = {
      documentId,
      awareness: new AwarenessDocument({
        maxClients: ctx.limits.maxAwarenessClientsPerDocument,
        maxLeftBytes: ctx.limits.maxAwarenessLeftBytes,
      }),
      subscribers: new SubscriberSet(),
      owners: new Map(),
    }
    ctx.rooms.set(documentId, room)
    if (!ctx.documents.has(documentId)) ctx.effect({ kind: 'subscribe-topic', documentId })
  }
  return room
}

/** Joins a presence room; rooms count against `maxDocumentsPerConnection` like documents. */
export function joinRoom(
  ctx: EngineContext,
  connection: Connection,
  documentId: string,
): AwarenessRoom | undefined {
  if (!withinDocumentCap(ctx, connection, connection.awarenessRooms, documentId)) return undefined
  const room = ensureRoom(ctx, documentId)
  room.subscribers.add(connection.id)
  connection.awarenessRooms.add(documentId)
  return room
}

/** Drops a room nobody watches and nobody is present in, and then the topic if nothing else holds it. */
export function pruneRoom(ctx: EngineContext, room: AwarenessRoom): void {
  if (room.subscribers.size > 0 || room.awareness.size > 0) return
  ctx.rooms.delete(room.documentId)
  releaseTopic(ctx, room.documentId)
}

/**
 * False (and the client told) when the connection already watches `maxDocumentsPerConnection`
 * documents in `watched` (its subscriptions, or its rooms) and `documentId` would be one more.
 */
export function withinDocumentCap(
  ctx: EngineContext,
  connection: Connection,
  watched: Pick<DocumentIds, 'has' | 'size'>,
  documentId: string,
): boolean {
  const max = ctx.limits.maxDocumentsPerConnection
  if (watched.has(documentId) || watched.size < max) return true
  ctx.sendError(connection.id, `Too many documents on one connection (max ${max})`, 'LIMIT_EXCEEDED', {
    documentId,
  })
  return false
}
