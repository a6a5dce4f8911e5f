import type { AwarenessUpdateMessage } from '../protocol/types.js'
import type { EngineContext } from './context.js'
import { clientIdHeldByOther, heldByOther, UNKNOWN_REMOTE_OWNER } from './owners.js'
import { ensureRoom, pruneRoom } from './rooms.js'
import type { AwarenessRoom, Connection } from './state.js'
import type { OwnedAwarenessEntry } from './types.js'

/**
 * Presence ownership. A client id belongs to the owner that first announced it in a document
 * (`ownerKey`: the user, or an anonymous connection) until it leaves, expires or its connection
 * closes. Updates for it from anyone else are refused, and one update may move its clock by at
 * most `maxAwarenessClockStep`.
 */
export function mayAnnounce(
  ctx: EngineContext,
  connection: Connection,
  room: AwarenessRoom,
  message: AwarenessUpdateMessage,
): boolean {
  const { documentId, clientId, state, clock } = message
  if (clientIdHeldByOther(ctx, connection, documentId, clientId)) {
    ctx.sendError(connection.id, 'Awareness client id belongs to another client', 'PERMISSION_DENIED', {
      documentId,
      clientId,
    })
    return false
  }
  const present = room.awareness.get(clientId)
  const step = ctx.limits.maxAwarenessClockStep
  if (present !== undefined && state !== null && clock - present.clock > step) {
    ctx.sendError(connection.id, `Awareness clock moves too far (max step ${step})`, 'LIMIT_EXCEEDED', {
      documentId,
      clientId,
    })
    return false
  }
  const announced = connection.awarenessClients?.get(documentId)
  const max = ctx.limits.maxAwarenessClientsPerConnection
  if (state !== null && !announced?.has(clientId) && (announced?.size ?? 0) >= max) {
    ctx.sendError(
      connection.id,
      `Too many awareness client ids on one connection (max ${max})`,
      'LIMIT_EXCEEDED',
      { documentId, clientId },
    )
    return false
  }
  return true
}

/** Remembers which local connection announced `clientId` last, so its close makes it leave. */
export function recordAnnouncement(
  ctx: EngineContext,
  room: AwarenessRoom,
  connection: Connection,
  clientId: string,
  left: boolean,
): void {
  forgetAnnouncement(ctx, room, clientId)
  if (left) return
  room.owners.set(clientId, connection.id)
  connection.awarenessClients ??= new Map()
  let announced = connection.awarenessClients.get(room.documentId)
  if (!announced) {
    announced = new Set()
    connection.awarenessClients.set(room.documentId, announced)
  }
  announced.add(clientId)
}

/** The id left, expired, or moved to another connection or node: no local connection answers for it. */
function forgetAnnouncement(ctx: EngineContext, room: AwarenessRoom, clientId: string): void {
  const conn = room.owners.get(clientId)
  if (conn === undefined) return
  room.owners.delete(clientId)
  ctx.connections.get(conn)?.awarenessClients?.get(room.documentId)?.delete(clientId)
}

/**
 * An entry another node accepted, under the same rules: a client id stays its first owner's,
 * whichever node announced it, and its clock moves by at most `maxAwarenessClockStep`. (Two
 * nodes that each accepted a different owner for the same id at the same time keep their own
 * until it leaves or expires; neither is taken over. Kept text states live on each node, so
 * this node checks the id against its own.)
 */
export function applyRemotePresence(
  ctx: EngineContext,
  documentId: string,
  entry: OwnedAwarenessEntry,
): void {
  // Kept while this node holds the document or its presence, so late local watchers see it.
  if (!ctx.rooms.has(documentId) && !ctx.documents.has(documentId)) return
  const room = ensureRoom(ctx, documentId)
  const { clientId, state, clock } = entry
  const owner = entry.owner ?? UNKNOWN_REMOTE_OWNER
  if (heldByOther(ctx, documentId, clientId, owner, undefined)) return
  const present = room.awareness.get(clientId)
  const step = ctx.limits.maxAwarenessClockStep
  if (present !== undefined && state !== null && clock - present.clock > step) return
  const outcome = room.awareness.apply(clientId, state, clock, ctx.now, owner)
  if (outcome !== 'updated' && outcome !== 'left') return
  // The same owner now speaks for it elsewhere (an SDK that moved nodes): closing here ends nothing.
  forgetAnnouncement(ctx, room, clientId)
  broadcastAwareness(ctx, room, clientId, state, clock)
}

/** The connection closed: the ids it announced last leave at once, here and on other nodes. */
export function leaveOnClose(ctx: EngineContext, connection: Connection): void {
  for (const documentId of [...(connection.awarenessClients?.keys() ?? [])]) {
    const room = ctx.rooms.get(documentId)
    if (!room) continue
    room.subscribers.delete(connection.id)
    leaveRoom(ctx, connection, room)
  }
}

/**
 * The ids `connection` announced last in `room` leave: it closed or stopped watching the room
 * (unsubscribed, or lost read access), so it holds presence only where it is.
 */
export function leaveRoom(ctx: EngineContext, connection: Connection, room: AwarenessRoom): void {
  const clientIds = connection.awarenessClients?.get(room.documentId)
  if (!clientIds) return
  connection.awarenessClients?.delete(room.documentId)
  for (const clientId of clientIds) {
    if (room.owners.get(clientId) !== connection.id) continue
    room.owners.delete(clientId)
    const removed = room.awareness.remove(clientId)
    if (!removed) continue
    const clock = removed.clock + 1
    broadcastAwareness(ctx, room, clientId, null, clock)
    const entry: OwnedAwarenessEntry = { clientId, state: null, clock }
    if (removed.owner !== undefined) entry.owner = removed.owner
    ctx.effect({ kind: 'publish-awareness', documentId: room.documentId, entry })
  }
}

/** Entries nobody refreshed within `awarenessTimeoutMs` leave; rooms left empty are dropped. */
export function expirePresence(ctx: EngineContext): void {
  for (const room of ctx.rooms.values()) {
    for (const entry of room.awareness.expire(ctx.now, ctx.limits.awarenessTimeoutMs)) {
      forgetAnnouncement(ctx, room, entry.clientId)
      broadcastAwareness(ctx, room, entry.clientId, null, entry.clock + 1)
    }
    pruneRoom(ctx, room)
  }
}

export function broadcastAwareness(
  ctx: EngineContext,
  room: AwarenessRoom,
  clientId: string,
  state: AwarenessUpdateMessage['state'],
  clock: number,
): void {
  ctx.send(room.subscribers.list(), {
    type: 'awareness_update',
    documentId: room.documentId,
    clientId,
    state,
    clock,
  })
  ctx.emit({ type: 'awareness-change', documentId: room.documentId, clientId, state })
}

/**
 * The present clients of a room: as `awareness_state` lists them, or with their owners as the
 * cluster carries them (`withOwners`).
 */
export function presentClients(room: AwarenessRoom, withOwners: boolean): OwnedAwarenessEntry[] {
  return room.awareness.entries().map(({ clientId, state, clock, owner }) => {
    const entry: OwnedAwarenessEntry = { clientId, state, clock }
    if (withOwners && owner !== undefined) entry.owner = owner
    return entry
  })
}
