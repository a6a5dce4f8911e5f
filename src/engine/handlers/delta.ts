import type { DeltaMessage } from '../../protocol/types.js'
import type { EngineCore } from '../core.js'
import type { Connection } from '../state.js'
import { applyWrites } from '../writes.js'
import { subscribeForWrite } from './subscribe.js'

/**
 * `delta` in both shapes (the validator normalised them into `writes`): write access,
 * auto-subscription (with read access), LWW apply, echo at flush, `ack {messageId ?? id}`
 * (SDK 0.1.1 waits for it).
 */
export function handleDelta(
  core: EngineCore,
  connection: Connection,
  message: DeltaMessage,
  bytes: number,
): void {
  if (!core.checkAccess(connection, 'write', message.documentId)) return
  const entry = core.readyDocument(connection, message, message.documentId, bytes)
  if (!entry?.doc) return
  if (!subscribeForWrite(core, connection, entry, message.id)) return
  const messageId = message.messageId ?? message.id
  // None applied (quota, or every field refused): no ack, since an ack says "applied".
  if (!applyWrites(core, connection, entry, message.writes, message.clock, messageId)) return
  core.queueAck(connection, messageId, entry.id)
}
