import type { DocumentSnapshot } from '../../crdt/types.js'
import type { SyncEngine } from '../../engine/index.js'
import type { EvictionBlocker } from '../../engine/types.js'
import type { DocumentStore } from '../../storage/store.js'
import {
  DocumentApiError,
  type DocumentPage,
  type PresenceEntry,
  type ServerDocuments,
} from '../documents.js'
import type { ServerStats } from '../types.js'
import type {
  DocumentListing,
  DocumentRow,
  InspectedDocument,
  InspectorData,
  InspectorStats,
} from './types.js'

/** What the inspector reads from the runtime, and the operator actions it forwards. */
export interface InspectorDeps {
  readonly nodeId: string
  readonly engine: SyncEngine
  readonly store: DocumentStore
  /** `sync.documents`: the listing and presence (the cluster's, on a cluster). */
  readonly documents: ServerDocuments
  stats(): ServerStats
  /** Persist batches saved and their total latency (seconds), since start. */
  persistLatency(): { count: number; seconds: number }
  evict(documentId: string): EvictionBlocker | undefined
  disconnect(connectionId: string): boolean
  revoke(userId: string): void
  /** A store read failed (logged once, like any load failure). */
  loadFailed(error: unknown, documentId: string): void
}

/** The inspector's reads and actions on the running server. */
export function createInspectorData(deps: InspectorDeps): InspectorData {
  const { engine, documents } = deps
  const row = (id: string): DocumentRow => {
    const info = engine.documentInfo(id)
    return { id, loaded: info !== undefined, subscribers: info?.subscribers ?? 0 }
  }
  return {
    stats: () => inspectorStats(deps),
    listDocuments: async ({ prefix, after, limit }) => {
      let page: DocumentPage
      try {
        page = await documents.list({ prefix, limit, ...(after === undefined ? {} : { after }) })
      } catch (error) {
        if (error instanceof DocumentApiError && error.code === 'NOT_SUPPORTED') {
          return memoryListing(engine.documentIds(), prefix, after, limit, row)
        }
        throw error
      }
      const listing: DocumentListing = { documents: page.documents.map(row), source: 'store' }
      if (page.next !== undefined) listing.next = page.next
      return listing
    },
    document: async (documentId) => {
      // In memory: the engine's registers, unflushed writes included. Otherwise the store's, read
      // without loading the document (looking must not change what the node holds, or seed it).
      const loaded = engine.documentSnapshot(documentId)
      const snapshot = loaded ?? (await loadFromStore(deps, documentId))
      if (!snapshot || (!loaded && snapshot.registers.length === 0)) return undefined
      const presence = await documents.presence(documentId)
      return inspectedDocument(engine, documentId, snapshot, loaded !== undefined, presence)
    },
    evict: (documentId) => deps.evict(documentId),
    disconnect: (connectionId) => deps.disconnect(connectionId),
    revoke: (userId) => deps.revoke(userId),
  }
}

async function loadFromStore(deps: InspectorDeps, documentId: string): Promise<DocumentSnapshot | undefined> {
  try {
    return await deps.store.load(documentId)
  } catch (error) {
    deps.loadFailed(error, documentId)
    throw error
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
  presence: PresenceEntry[],
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
