import type { AckMessage, PingMessage, UnsupportedMessage } from '../../protocol/types.js'
import type { EngineCore } from '../core.js'
import type { Connection } from '../state.js'

/** `ping` -> `pong` at once, authenticated or not (the SDK reconnects after 5 s without one). */
export function handlePing(core: EngineCore, connection: Connection, _message: PingMessage): void {
  core.sendTo(connection.id, { type: 'pong' })
}

/** Client acks of our broadcasts: nothing to release, echoes are idempotent (PROTOCOL.md §2.11). */
export function handleAck(_core: EngineCore, _connection: Connection, _message: AckMessage): void {}

/** `snapshot_request` / `snapshot_upload`: accepted by SyncKit's validator, never implemented. */
export function handleUnsupported(
  core: EngineCore,
  connection: Connection,
  message: UnsupportedMessage,
): void {
  core.sendError(connection.id, `Unsupported message type: ${message.type}`, 'UNSUPPORTED', {
    ...(message.documentId ? { documentId: message.documentId } : {}),
  })
}
