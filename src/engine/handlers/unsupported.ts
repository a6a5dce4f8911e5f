import type { UnsupportedMessage } from '../../protocol/types.js'
import type { EngineContext } from '../context.js'
import type { Connection } from '../state.js'

/** `snapshot_request` / `snapshot_upload`: accepted by SyncKit's validator, never implemented. */
export function handleUnsupported(
  ctx: EngineContext,
  connection: Connection,
  message: UnsupportedMessage,
): void {
  ctx.sendError(connection.id, `Unsupported message type: ${message.type}`, 'UNSUPPORTED', {
    ...(message.documentId ? { documentId: message.documentId } : {}),
  })
}
