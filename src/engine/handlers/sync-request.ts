import type { SyncRequestMessage, SyncStep1Message } from '../../protocol/types.js'
import { checkAccess } from '../access.js'
import type { EngineContext } from '../context.js'
import { readyOrPark } from '../documents.js'
import { sendSyncResponse } from '../initial-sync.js'
import type { Connection } from '../state.js'
import { subscribe } from '../subscriptions.js'
import { deltasSince } from '../wire.js'

/**
 * `sync_request` (docs/protocol.md §5.4, §10.3): auto-subscribes and answers `sync_response` with
 * `requestId` = the request id, the full state, and in `deltas` exactly the registers the
 * client's `vectorClock` has not seen (tombstones included).
 */
export function handleSyncRequest(
  ctx: EngineContext,
  connection: Connection,
  message: SyncRequestMessage,
): void {
  if (!checkAccess(ctx, connection, 'read', message.documentId)) return
  const entry = readyOrPark(ctx, connection, message)
  if (!entry?.doc) return
  if (!subscribe(ctx, connection, entry)) return
  connection.dialect ??= 'legacy'
  sendSyncResponse(ctx, connection, entry, message.id ?? ctx.options.newId(), message.vectorClock)
}

/** `sync_step1` -> `sync_step2` with the registers missing from `stateVector`. */
export function handleSyncStep1(ctx: EngineContext, connection: Connection, message: SyncStep1Message): void {
  if (!checkAccess(ctx, connection, 'read', message.documentId)) return
  const entry = readyOrPark(ctx, connection, message)
  if (!entry?.doc) return
  ctx.replyTo(connection, {
    type: 'sync_step2',
    documentId: entry.id,
    operations: deltasSince(ctx, entry, message.stateVector),
  })
}
