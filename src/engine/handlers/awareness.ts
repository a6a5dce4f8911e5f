import { utf8Length } from '../../protocol/index.js'
import type { AwarenessSubscribeMessage, AwarenessUpdateMessage } from '../../protocol/types.js'
import type { EngineCore } from '../core.js'
import type { AwarenessRoom, Connection } from '../state.js'

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
 * clocks ignored, `null` = leave; broadcast to every watcher, the sender included. The connection
 * owns the client ids it announces, so they leave as soon as it closes.
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
  if (!room) return
  const outcome = room.awareness.apply(clientId, state, clock, core.now)
  if (outcome === 'stale') return
  if (outcome === 'full') {
    core.sendError(connection.id, 'Too many clients present in this document', 'LIMIT_EXCEEDED', {
      documentId,
    })
    return
  }
  trackOwner(room, connection, clientId, outcome === 'left')
  broadcastAwareness(core, room, clientId, state, clock)
  core.out.push({ kind: 'publish-awareness', documentId, entry: { clientId, state, clock } })
}

function trackOwner(room: AwarenessRoom, connection: Connection, clientId: string, left: boolean): void {
  let owned = connection.awarenessClients.get(room.documentId)
  if (left) {
    room.owners.delete(clientId)
    owned?.delete(clientId)
    return
  }
  room.owners.set(clientId, connection.id)
  if (!owned) {
    owned = new Set()
    connection.awarenessClients.set(room.documentId, owned)
  }
  owned.add(clientId)
}

export function broadcastAwareness(
  core: EngineCore,
  room: AwarenessRoom,
  clientId: string,
  state: AwarenessUpdateMessage['state'],
  clock: number,
): void {
  core.send(room.subscribers.list(), {
    type: 'awareness_update',
    documentId: room.documentId,
    clientId,
    state,
    clock,
  })
  core.emit({ type: 'awareness-change', documentId: room.documentId, clientId, state })
}
