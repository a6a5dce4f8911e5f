import { utf8Length } from '../../protocol/index.js'
import type { AwarenessSubscribeMessage, AwarenessUpdateMessage } from '../../protocol/types.js'
import type { EngineCore } from '../core.js'
import { ownerKey } from '../owners.js'
import { broadcastAwareness, mayAnnounce, recordAnnouncement } from '../presence.js'
import type { Connection } from '../state.js'

/** `awareness_subscribe` -> `awareness_state` with every present client (auth and read required). */
export function handleAwarenessSubscribe(
  core: EngineCore,
  connection: Connection,
  message: AwarenessSubscribeMessage,
): void {
  if (!core.checkAccess(connection, 'read', message.documentId)) return
  const room = core.joinAwareness(connection, message.documentId)
  if (!room) return
  core.sendTo(connection.id, {
    type: 'awareness_state',
    documentId: room.documentId,
    states: room.awareness.entries().map(({ clientId, state, clock }) => ({ clientId, state, clock })),
  })
}

/**
 * `awareness_update` (PROTOCOL.md §2.12 with the FIXes): read access, auto-subscription, stale
 * clocks ignored, `null` = leave; broadcast to every watcher, the sender included. A client id
 * belongs to its owner (see `mayAnnounce`), and the connection that announced it last makes it
 * leave when it closes.
 */
export function handleAwarenessUpdate(
  core: EngineCore,
  connection: Connection,
  message: AwarenessUpdateMessage,
): void {
  const { documentId, clientId, state, clock } = message
  if (!core.checkAccess(connection, 'read', documentId)) return
  if (state !== null) {
    const bytes = utf8Length(JSON.stringify(state))
    if (bytes > core.limits.maxAwarenessStateBytes) {
      core.sendError(
        connection.id,
        `Awareness state too large (${bytes} bytes, max ${core.limits.maxAwarenessStateBytes})`,
        'LIMIT_EXCEEDED',
        { documentId },
      )
      return
    }
  }
  const room = core.joinAwareness(connection, documentId)
  if (!room || !mayAnnounce(core, connection, room, message)) return
  const owner = ownerKey(core, connection)
  const outcome = room.awareness.apply(clientId, state, clock, core.now, owner)
  if (outcome === 'stale') return
  if (outcome === 'full') {
    core.sendError(connection.id, 'Too many clients present in this document', 'LIMIT_EXCEEDED', {
      documentId,
    })
    return
  }
  recordAnnouncement(core, room, connection, clientId, outcome === 'left')
  broadcastAwareness(core, room, clientId, state, clock)
  core.out.push({ kind: 'publish-awareness', documentId, entry: { clientId, state, clock, owner } })
}
