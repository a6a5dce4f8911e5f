import type { SyncRequestMessage, SyncStep1Message } from '../../protocol/types.js'
import type { EngineCore } from '../core.js'
import type { Connection } from '../state.js'
import { sendSyncResponse } from './subscribe.js'

/**
 * `sync_request` (PROTOCOL.md §2.6, §9): auto-subscribes and answers `sync_response` with
 * `requestId` = the request id, the full state, and in `deltas` exactly the registers the
 * client's `vectorClock` has not seen (tombstones included).
 */
export function handleSyncRequest(
  core: EngineCore,
  connection: Connection,
  message: SyncRequestMessage,
): void {
  if (!core.checkAccess(connection, 'read', message.documentId)) return
  const entry = core.readyDocument(connection, message, message.documentId)
  if (!entry?.doc) return
  if (!core.subscribe(connection, entry)) return
  sendSyncResponse(core, connection, entry, message.id ?? core.options.newId(), message.vectorClock)
}

/** `sync_step1` -> `sync_step2` with the registers missing from `stateVector`. */
export function handleSyncStep1(core: EngineCore, connection: Connection, message: SyncStep1Message): void {
  if (!core.checkAccess(connection, 'read', message.documentId)) return
  const entry = core.readyDocument(connection, message, message.documentId)
  if (!entry?.doc) return
  core.replyTo(connection, {
    type: 'sync_step2',
    documentId: entry.id,
    operations: core.deltasSince(entry, message.stateVector),
  })
}
