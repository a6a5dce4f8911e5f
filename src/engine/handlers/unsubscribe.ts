import type { UnsubscribeMessage } from '../../protocol/types.js'
import type { EngineCore } from '../core.js'
import { leaveRoom } from '../presence.js'
import type { Connection } from '../state.js'

/**
 * `unsubscribe`: leaves the document and its awareness room (the presence it announced there
 * leaves too); no reply (as the SyncKit servers).
 */
export function handleUnsubscribe(
  core: EngineCore,
  connection: Connection,
  message: UnsubscribeMessage,
): void {
  unsubscribeConnection(core, connection, message.documentId)
}

export function unsubscribeConnection(core: EngineCore, connection: Connection, documentId: string): void {
  if (connection.subscriptions.delete(documentId)) {
    const entry = core.documents.get(documentId)
    entry?.subscribers.delete(connection.id)
    if (entry) entry.lastActive = core.now
    core.emit({ type: 'unsubscribed', conn: connection.id, documentId })
  }
  if (connection.awarenessRooms.delete(documentId)) {
    const room = core.rooms.get(documentId)
    if (room) {
      room.subscribers.delete(connection.id)
      leaveRoom(core, connection, room)
      core.pruneRoom(room)
    }
  }
}
