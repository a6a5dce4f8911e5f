import { utf8Length } from '../../protocol/index.js'
import type { AwarenessSubscribeMessage, AwarenessUpdateMessage } from '../../protocol/types.js'
import { checkAccess } from '../access.js'
import type { EngineContext } from '../context.js'
import { ownerKey } from '../owners.js'
import { broadcastAwareness, mayAnnounce, presentClients, recordAnnouncement } from '../presence.js'
import { joinRoom } from '../rooms.js'
import type { Connection } from '../state.js'

/** `awareness_subscribe` -> `awareness_state` with every present client (auth and read required). */
export function handleAwarenessSubscribe(
  ctx: EngineContext,
  connection: Connection,
  message: AwarenessSubscribeMessage,
): void {
  if (!checkAccess(ctx, connection, 'read', message.documentId)) return
  const room = joinRoom(ctx, connection, message.documentId)
  if (!room) return
  ctx.sendTo(connection.id, {
    type: 'awareness_state',
    documentId: room.documentId,
    states: presentClients(room, false),
  })
}

/**
 * `awareness_update` (docs/protocol.md §7, D17): read access, auto-subscription, stale
 * clocks ignored, `null` = leave; broadcast to every watcher, the sender included. A client id
 * belongs to its owner (see `mayAnnounce`), and the connection that announced it last makes it
 * leave when it closes.
 */
export function handleAwarenessUpdate(
  ctx: EngineContext,
  connection: Connection,
  message: AwarenessUpdateMessage,
): void {
  const { documentId, clientId, state, clock } = message
  if (!checkAccess(ctx, connection, 'read', documentId)) return
  if (state !== null) {
    const bytes = utf8Length(JSON.stringify(state))
    if (bytes > ctx.limits.maxAwarenessStateBytes) {
      ctx.sendError(
        connection.id,
        `Awareness state too large (${bytes} bytes, max ${ctx.limits.maxAwarenessStateBytes})`,
        'LIMIT_EXCEEDED',
        { documentId },
      )
      return
    }
  }
  const room = joinRoom(ctx, connection, documentId)
  if (!room || !mayAnnounce(ctx, connection, room, message)) return
  const owner = ownerKey(ctx, connection)
  const outcome = room.awareness.apply(clientId, state, clock, ctx.now, owner)
  if (outcome === 'stale') return
  if (outcome === 'full') {
    ctx.sendError(connection.id, 'Too many clients present in this document', 'LIMIT_EXCEEDED', {
      documentId,
    })
    return
  }
  recordAnnouncement(ctx, room, connection, clientId, outcome === 'left')
  broadcastAwareness(ctx, room, clientId, state, clock)
  ctx.effect({ kind: 'publish-awareness', documentId, entry: { clientId, state, clock, owner } })
}
