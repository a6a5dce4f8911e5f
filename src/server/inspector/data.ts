import type { DocumentSnapshot } from '../../crdt/types.js'
import type { SyncEngine } from '../../engine/index.js'
import type { EvictionBlocker } from '../../engine/types.js'
import type { DocumentStore } from '../../storage/store.js'
import type { ServerStats } from '../types.js'
import type {
  DocumentListing,
  DocumentRow,
  InspectedDocument,
  InspectedPresence,
  InspectorData,
  InspectorStats,
} from './types.js'

/** What the inspector reads from the runtime, and the operator actions it forwards. */
export interface InspectorDeps {
  readonly nodeId: string
  readonly engine: SyncEngine
  readonly store: DocumentStore
  stats(): ServerStats
  /** Persist batches saved and their total latency (seconds), since start. */
  persistLatency(): { count: number; seconds: number }
  evict(documentId: string): EvictionBlocker | undefined
  disconnect(connectionId: string): boolean
  revoke(userId: string): void
}

/** Pages of the store's listing scanned for one answer, so a rare prefix cannot hold a request long. */
const MAX_SCANNED_PAGES = 20

export function createInspectorData(deps: InspectorDeps): InspectorData {
  const { engine } = deps
  const row = (id: string): DocumentRow => {
    const info = engine.documentInfo(id)
    return { id, loaded: info !== undefined, subscribers: info?.subscribers ?? 0 }
  }
  return {
    stats: () => inspectorStats(deps),
    listDocuments: async ({ prefix, after, limit }) => {
      const list = deps.store.list?.bind(deps.store)
      if (!list) return memoryListing(engine.documentIds(), prefix, after, limit, row)
      const ids = await scanStore(list, prefix, after, limit)
      const listing: DocumentListing = { documents: ids.slice(0, limit).map(row), source: 'store' }
      if (ids.length > limit) listing.next = ids[limit - 1] as string
      return listing
    },
    document: async (documentId) => {
      const loaded = engine.documentSnapshot(documentId)
      const snapshot = loaded ?? (await deps.store.load(documentId))
      if (!snapshot) return undefined
      return inspectedDocument(engine, documentId, snapshot, loaded !== undefined)
    },
    evict: (documentId) => deps.evict(documentId),
    disconnect: (connectionId) => deps.disconnect(connectionId),
    revoke: (userId) => deps.revoke(userId),
  }
}

function inspectorStats(deps: InspectorDeps): InspectorStats {
  const stats = deps.stats()
  const persist = deps.persistLatency()
  return {
    nodeId: deps.nodeId,
    time: Date.now(),
    uptimeSeconds: stats.uptimeSeconds,
    connections: stats.connections,
    documents: stats.documents,
    subscriptions: stats.subscriptions,
    awarenessClients: stats.awarenessClients,
    messagesIn: stats.messagesIn,
    messagesOut: stats.messagesOut,
    bytesIn: stats.bytesIn,
    bytesOut: stats.bytesOut,
    queuedMessages: stats.queuedMessages,
    queuedBytes: stats.queuedBytes,
    pendingPersistBatches: stats.pendingPersistBatches,
    persistCount: persist.count,
    persistSeconds: persist.seconds,
  }
}

/**
 * Up to `limit + 1` ids starting with `prefix`, after `after`. Ids are in ascending byte order,
 * so those with a prefix are contiguous: the scan starts just before them (every id starting
 * with `prefix` sorts after `prefix` minus its last character) and stops at the first id past them.
 */
async function scanStore(
  list: NonNullable<DocumentStore['list']>,
  prefix: string,
  after: string | undefined,
  limit: number,
): Promise<string[]> {
  const found: string[] = []
  let cursor = after ?? (prefix === '' ? undefined : prefix.slice(0, -1))
  for (let page = 0; page < MAX_SCANNED_PAGES && found.length <= limit; page++) {
    const ids = await list(cursor === undefined ? { limit: limit + 1 } : { limit: limit + 1, after: cursor })
    for (const id of ids) {
      if (id.startsWith(prefix)) found.push(id)
      else if (found.length > 0 || id > prefix) return found
    }
    if (ids.length <= limit) break
    cursor = ids[ids.length - 1]
  }
  return found
}

function memoryListing(
  ids: string[],
  prefix: string,
  after: string | undefined,
  limit: number,
  row: (id: string) => DocumentRow,
): DocumentListing {
  const matching = ids.filter((id) => id.startsWith(prefix) && (after === undefined || id > after)).sort()
  const listing: DocumentListing = { documents: matching.slice(0, limit).map(row), source: 'memory' }
  if (matching.length > limit) listing.next = matching[limit - 1] as string
  return listing
}

function inspectedDocument(
  engine: SyncEngine,
  documentId: string,
  snapshot: DocumentSnapshot,
  loaded: boolean,
): InspectedDocument {
  const fields = snapshot.registers
    .map((register) => ({
      field: register.field,
      value: register.deleted ? null : register.value,
      deleted: register.deleted,
      updatedAt: register.stamp.ms,
      nodeId: register.stamp.node,
    }))
    .sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0))
  const presence = engine.awarenessEntries(documentId).map((entry) => {
    const present: InspectedPresence = { clientId: entry.clientId, state: entry.state }
    if (entry.owner?.startsWith('user:')) present.userId = entry.owner.slice('user:'.length)
    return present
  })
  const document: InspectedDocument = {
    id: documentId,
    loaded,
    fields,
    clock: { ...snapshot.clock },
    subscribers: engine.documentSubscribers(documentId),
    presence,
    textStates: engine.textStates(documentId),
  }
  const blocker = engine.evictionBlocker(documentId)
  if (blocker !== undefined) document.evictionBlocker = blocker
  return document
}
