import type { JsonValue } from '../protocol/types.js'

/**
 * Documents from the server (`sync.documents`): read, write, list and delete documents without a
 * socket. Every write goes through the engine as the server's own, so the same LWW stamps,
 * `validate` option, quotas, echo to subscribers, persistence and cluster publication apply as
 * for a client's write. docs/documents.md describes it with an example.
 */
export interface ServerDocuments {
  /** From memory or the store. `undefined` when the document was never written (or was deleted). */
  get(documentId: string, options?: { meta?: boolean }): Promise<DocumentView | undefined>
  /**
   * Resolves once the write is durably committed (the store saved it); rejects with
   * DocumentApiError. `actor` names the writer in `document-change` events and webhooks
   * (default `server`).
   */
  update(documentId: string, change: DocumentChange, options?: { actor?: string }): Promise<DocumentView>
  /** Document ids in ascending byte order (keyset pagination). */
  list(options?: { prefix?: string; after?: string; limit?: number }): Promise<DocumentPage>
  /**
   * Removes from the store and memory (and other nodes' memory); subscribers get an error and are
   * unsubscribed. False when it did not exist. `actor` names who deleted it in the
   * `document-deleted` event and the `document.deleted` webhook.
   */
  delete(documentId: string, options?: { actor?: string }): Promise<boolean>
  /** Present clients of the document (this node and, in a cluster, the others'). */
  presence(documentId: string): Promise<PresenceEntry[]>
}

/** A server-side write: fields to set, and fields to delete (tombstoned with a stamp). */
export interface DocumentChange {
  set?: Readonly<Record<string, JsonValue>>
  delete?: readonly string[]
}

/** A document as `sync.documents.get` and `update` return it. */
export interface DocumentView {
  id: string
  /** The live fields (deleted ones left out). */
  fields: Record<string, JsonValue>
  /** The document's vector clock: node id → sequence. */
  clock: Record<string, number>
  /** With `{ meta: true }`: every register, tombstones included. */
  meta?: Record<string, FieldMeta>
}

/** One register of a document, as `get(id, { meta: true })` shows it. */
export interface FieldMeta {
  /** The value; `null` for a tombstone. */
  value: JsonValue | null
  deleted: boolean
  /** The write's hybrid logical clock (milliseconds since the epoch, with a logical part). */
  updatedAt: number
  /** The node that stamped the write. */
  nodeId: string
}

/** One page of document ids. */
export interface DocumentPage {
  documents: string[]
  /** Set when there may be more: pass it as `after` for the next page. */
  next?: string
}

/** A client present on a document. */
export interface PresenceEntry {
  clientId: string
  /** The client's awareness state. */
  state: JsonValue
  /** The user of the connection that owns the entry, when known. */
  userId?: string
}

/** Why a `sync.documents` call failed (the REST API maps each to an HTTP status). */
export type DocumentApiErrorCode =
  /** Bad id, bad field name, empty change, limit out of range (REST 400). */
  | 'INVALID_INPUT'
  /** The `validate` option refused a value (REST 422). */
  | 'VALIDATION_FAILED'
  /** Document or field size limits (REST 413). */
  | 'QUOTA_EXCEEDED'
  /** The store failed, after the engine's retries or timeout (REST 503). */
  | 'STORE_FAILED'
  /** The store has no `list` or `delete` (REST 501). */
  | 'NOT_SUPPORTED'
  /** `sync.close()` was called (REST 503). */
  | 'SHUTTING_DOWN'

/** The typed error every `sync.documents` call rejects with. */
export class DocumentApiError extends Error {
  /** What went wrong, stable for programs. */
  readonly code: DocumentApiErrorCode
  /** Extra facts, such as the refused field or the validation issues. */
  readonly details?: Readonly<Record<string, unknown>>

  /**
   * @param code - what went wrong
   * @param message - for people
   * @param details - extra facts for programs
   * @param options - `cause`: the underlying error (a store failure)
   */
  constructor(
    code: DocumentApiErrorCode,
    message: string,
    details?: Readonly<Record<string, unknown>>,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = 'DocumentApiError'
    this.code = code
    if (details !== undefined) this.details = details
  }
}
