import type { AckMessage, PingMessage, UnsupportedMessage } from '../../protocol/types.js'
import type { EngineContext } from '../context.js'
import type { Connection } from '../state.js'

/** `ping` -> `pong` at once, authenticated or not (the SDK reconnects after 5 s without one). */
export function handlePing(ctx: EngineContext, connection: Connection, _message: PingMessage): void {
  ctx.sendTo(connection.id, { type: 'pong' })
}

/** Client acks of our broadcasts: nothing to release, echoes are idempotent (PROTOCOL.md §2.11). */
export function handleAck(_core: EngineContext, _connection: Connection, _message: AckMessage): void {}

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
