import type { DeltaMessage } from '../../protocol/types.js'
import { checkAccess } from '../access.js'
import { queueAck } from '../acks.js'
import type { EngineContext } from '../context.js'
import { readyOrPark } from '../documents.js'
import type { Connection } from '../state.js'
import { subscribeForWrite } from '../subscriptions.js'
import { applyWrites } from '../writes.js'

/**
 * `delta` in both shapes (the validator normalised them into `writes`): write access,
 * auto-subscription (with read access), LWW apply, echo at flush, `ack {messageId ?? id}`
 * (SDK 0.1.1 waits for it).
 */
export function handleDelta(
  ctx: EngineContext,
  connection: Connection,
  message: DeltaMessage,
  bytes: number,
): void {
  if (!checkAccess(ctx, connection, 'write', message.documentId)) return
  const entry = readyOrPark(ctx, connection, message, bytes)
  if (!entry?.doc) return
  if (!subscribeForWrite(ctx, connection, entry, message.id)) return
  const messageId = message.messageId ?? message.id
  // None applied (quota, or every field refused): no ack, since an ack says "applied".
  if (!applyWrites(ctx, connection, entry, message.writes, message.clock, messageId)) return
  queueAck(ctx, connection, messageId, entry.id)
}
