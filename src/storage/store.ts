import type { DocumentSnapshot } from '../crdt/types.js'

/**
 * Durable storage of documents: registers with their stamps and tombstones, and the vector clock.
 * `test/integration/storage-conformance.test.ts` runs the shared acceptance suite
 * (`defineDocumentStoreConformance` from `synckit-engine/testing`) against every implementation.
 */
export interface DocumentStore {
  /** `undefined` means the document does not exist yet (an empty document is created). */
  load(documentId: string): Promise<DocumentSnapshot | undefined>
  /** Idempotent upsert of registers by the LWW rule; vector clocks max-merged. */
  save(documents: readonly DocumentSnapshot[]): Promise<void>
  /** False when the store cannot serve (`GET /health/ready` answers 503). */
  health?(): Promise<boolean>
  /** Releases connections and files; called once by `sync.close()`. */
  close?(): Promise<void>
  /** Document ids in ascending byte order: up to `limit` ids greater than `after` (starting with `prefix`). */
  list?(options?: ListDocumentsOptions): Promise<string[]>
  /** Removes a document (registers and clock). Resolves false when it did not exist. */
  delete?(documentId: string): Promise<boolean>
}

/** Keyset pagination of `DocumentStore.list`. */
export interface ListDocumentsOptions {
  /** Default 100. */
  limit?: number
  /** Exclusive lower bound (keyset pagination: pass the last id of the previous page). */
  after?: string
  /** Only ids that start with it. */
  prefix?: string
}
