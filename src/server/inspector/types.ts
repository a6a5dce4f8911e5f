import type { DocumentSubscriber, EvictionBlocker } from '../../engine/types.js'
import type { JsonObject, JsonValue } from '../../protocol/types.js'
import type { PresenceEntry } from '../documents.js'

/**
 * The JSON the inspector's API answers (`/inspector/api/...`), shared with the page (inspector/),
 * which imports these types only.
 */

/** `GET /inspector/api/stats`: counters since start and gauges now; the page derives rates. */
export interface InspectorStats {
  nodeId: string
  /** Server time of the reading (ms epoch). */
  time: number
  uptimeSeconds: number
  connections: number
  /** Documents in memory. */
  documents: number
  subscriptions: number
  awarenessClients: number
  messagesIn: number
  messagesOut: number
  bytesIn: number
  bytesOut: number
  /** Backpressure: messages and bytes waiting for slow connections. */
  queuedMessages: number
  queuedBytes: number
  pendingPersistBatches: number
  /** Persist batches saved since start and their total store latency (seconds). */
  persistCount: number
  persistSeconds: number
}

/** One row of `GET /inspector/api/documents`. */
export interface DocumentRow {
  id: string
  /** In this node's memory. */
  loaded: boolean
  /** Local subscribers (0 when not loaded). */
  subscribers: number
}

/** `GET /inspector/api/documents?prefix=&after=&limit=`: ids in ascending order, a page at a time. */
export interface DocumentListing {
  documents: DocumentRow[]
  /** Pass as `after` for the next page; absent on the last one. */
  next?: string
  /** `store`: every stored document; `memory`: the store cannot list, so only those in memory. */
  source: 'store' | 'memory'
}

/** One register of a document, tombstones included. */
export interface InspectedField {
  field: string
  /** `null` for a tombstone. */
  value: JsonValue | null
  deleted: boolean
  /** The stamp: hybrid logical time (ms) and the node that took it. */
  updatedAt: number
  nodeId: string
}

/** `GET /inspector/api/document?id=`. */
export interface InspectedDocument {
  id: string
  loaded: boolean
  /** Ordered by field name. */
  fields: InspectedField[]
  /** Vector clock: node -> highest sequence number seen. */
  clock: Record<string, number>
  subscribers: DocumentSubscriber[]
  /** Present clients (every node's, on a cluster). */
  presence: PresenceEntry[]
  /** The kept `text-state` ops, least recently updated first. */
  textStates: JsonObject[]
  /** Why evicting it would do nothing now; absent when it can leave memory. */
  evictionBlocker?: EvictionBlocker
}

/** What the API's routes read from and do to the running server. */
export interface InspectorData {
  stats(): InspectorStats
  listDocuments(options: {
    prefix: string
    after: string | undefined
    limit: number
  }): Promise<DocumentListing>
  /** undefined when the document is neither in memory nor in the store. */
  document(documentId: string): Promise<InspectedDocument | undefined>
  /** Drops it from memory; returns what prevented it, if anything. */
  evict(documentId: string): EvictionBlocker | undefined
  /** Closes a connection (1008); false when there is none by that id. */
  disconnect(connectionId: string): boolean
  /** `sync.revoke({ userId })`: closes the user's connections (1008). */
  revoke(userId: string): void
}
