import { utf8Length } from '../protocol/index.js'
import type { JsonObject } from '../protocol/types.js'
import type { EngineContext } from './context.js'
import type { ConnectionId, ConnectionUsage, DocumentUsage } from './types.js'

/** What the engine holds on behalf of one connection; undefined once it closed. */
export function connectionUsage(ctx: EngineContext, conn: ConnectionId): ConnectionUsage | undefined {
  const connection = ctx.connections.get(conn)
  if (!connection || connection.closed) return undefined
  let presenceClients = 0
  let presenceBytes = 0
  for (const [documentId, clientIds] of connection.awarenessClients ?? []) {
    const room = ctx.rooms.get(documentId)
    for (const clientId of clientIds) {
      const entry = room?.owners.get(clientId) === conn ? room.awareness.get(clientId) : undefined
      if (!entry) continue
      presenceClients++
      presenceBytes += utf8Length(clientId) + utf8Length(JSON.stringify(entry.state))
    }
  }
  let textStates = 0
  let textStateBytes = 0
  for (const entry of ctx.documents.values()) {
    for (const kept of entry.textStates.values()) {
      if (kept.conn !== conn) continue
      textStates++
      textStateBytes += kept.bytes
    }
  }
  return {
    preAuthFrames: connection.preAuth.length,
    preAuthBytes: connection.preAuthBytes,
    chunkSets: connection.chunks?.size ?? 0,
    chunkBytes: connection.chunks?.bytes ?? 0,
    subscriptions: connection.subscriptions.size,
    awarenessRooms: connection.awarenessRooms.size,
    presenceClients,
    presenceBytes,
    textStates,
    textStateBytes,
  }
}

/** What the engine holds for one document and its presence room; undefined when it holds neither. */
export function documentUsage(ctx: EngineContext, documentId: string): DocumentUsage | undefined {
  const entry = ctx.documents.get(documentId)
  const room = ctx.rooms.get(documentId)
  if (!entry && !room) return undefined
  let textStateBytes = 0
  for (const kept of entry?.textStates.values() ?? []) textStateBytes += kept.bytes
  return {
    bytes: entry?.bytes ?? 0,
    fields: entry?.doc?.size ?? 0,
    textStates: entry?.textStates.size ?? 0,
    textStateBytes,
    presenceClients: room?.awareness.size ?? 0,
    rememberedLeaveBytes: room?.awareness.leftBytes ?? 0,
  }
}

/** The kept text-state ops of a document, least recently updated first. */
export function keptTextStates(ctx: EngineContext, documentId: string): JsonObject[] {
  const entry = ctx.documents.get(documentId)
  return entry ? [...entry.textStates.values()].map((kept) => kept.op) : []
}
