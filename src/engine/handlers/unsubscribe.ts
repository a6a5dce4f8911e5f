import type { UnsubscribeMessage } from '../../protocol/types.js'
import type { EngineContext } from '../context.js'
import type { Connection } from '../state.js'
import { unsubscribe } from '../subscriptions.js'

/**
 * `unsubscribe`: leaves the document and its awareness room (the presence it announced there
 * leaves too); no reply (as the SyncKit servers).
 */
export function handleUnsubscribe(
  ctx: EngineContext,
  connection: Connection,
  message: UnsubscribeMessage,
): void {
  unsubscribe(ctx, connection, message.documentId)
}
