import type { SyncEngine } from '../engine/index.js'
import type { ServerConnection } from './connection.js'
import type { HealthReport } from './http.js'
import type { ServerMetrics } from './server-metrics.js'
import type { ServerStats } from './types.js'

/** `GET /health` in the SyncKit shape; document ids only when the operator exposes them. */
export function healthReport(
  connections: ReadonlyMap<string, ServerConnection>,
  engine: SyncEngine,
  lastModified: ReadonlyMap<string, number>,
  uptimeSeconds: number,
  includeDocuments: boolean,
): HealthReport {
  const users = new Set<string>()
  for (const connection of connections.values()) {
    if (connection.userId !== undefined) users.add(connection.userId)
  }
  const ids = engine.documentIds()
  return {
    uptimeSeconds,
    totalConnections: connections.size,
    totalUsers: users.size,
    totalClients: connections.size,
    totalDocuments: ids.length,
    documents: includeDocuments
      ? ids.map((id) => ({
          id,
          subscribers: engine.documentInfo(id)?.subscribers ?? 0,
          lastModified: lastModified.get(id) ?? null,
        }))
      : [],
  }
}

/** Messages and bytes waiting in every connection's backpressure queue. */
export function queuedTotals(connections: ReadonlyMap<string, ServerConnection>): {
  messages: number
  bytes: number
} {
  let messages = 0
  let bytes = 0
  for (const connection of connections.values()) {
    messages += connection.outbound.queuedMessages
    bytes += connection.outbound.queuedBytes
  }
  return { messages, bytes }
}

/** `server.stats()`: the engine's counts plus what only the runtime knows. */
export function serverStats(
  engine: SyncEngine,
  metrics: ServerMetrics,
  connections: ReadonlyMap<string, ServerConnection>,
  runtime: { inFlight: number; startedAt: number; uptimeSeconds: number },
): ServerStats {
  const queued = queuedTotals(connections)
  const inbound = engine.inboundCounters()
  let messagesIn = 0
  for (const count of Object.values(inbound.messages)) messagesIn += count
  return {
    ...engine.stats(),
    connections: connections.size,
    messagesIn,
    messagesOut: metrics.messagesOut.total,
    bytesIn: inbound.bytes,
    bytesOut: metrics.bytesOut.total,
    queuedMessages: queued.messages,
    queuedBytes: queued.bytes,
    rejectedConnections: metrics.connectionsRejected.total,
    ...runtime,
  }
}
