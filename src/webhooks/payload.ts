import type { JsonObject, JsonValue } from '../crdt/types.js'
import type { DocumentChangeEvent, FieldChange } from '../server/events.js'

/**
 * The JSON body of every webhook (the Standard Webhooks payload shape): the event type, when it
 * happened (ISO 8601, the last change coalesced into this call), and the event's data.
 */
export interface WebhookMessage<T extends string, D> {
  type: T
  timestamp: string
  data: D
}

/** `data` of a `document.changed` call. */
export interface DocumentChangedData {
  documentId: string
  /**
   * Who made the changes in this call (distinct user ids, first writer first). Absent when the
   * server does not report the writer of a change.
   */
  actors?: string[]
  /** Fields written, with their value after the write (the union of the coalesced changes, latest value). */
  set: Record<string, JsonValue>
  /** Fields deleted (tombstoned). A field is in `set` or in `delete`, never both. */
  delete: string[]
}

/** `data` of a `document.deleted` call. */
export interface DocumentDeletedData {
  documentId: string
  actor?: string
}

/** `data` of a `presence.changed` call. */
export interface PresenceChangedData {
  documentId: string
  /** clientId -> its latest presence state, `null` when the client left. */
  clients: Record<string, JsonObject | null>
}

/** The body of a `document.changed` call. */
export type DocumentChangedMessage = WebhookMessage<'document.changed', DocumentChangedData>
/** The body of a `document.deleted` call. */
export type DocumentDeletedMessage = WebhookMessage<'document.deleted', DocumentDeletedData>
/** The body of a `presence.changed` call. */
export type PresenceChangedMessage = WebhookMessage<'presence.changed', PresenceChangedData>
/** Every body a receiver can get, told apart by `type`. */
export type WebhookBody = DocumentChangedMessage | DocumentDeletedMessage | PresenceChangedMessage

/** A committed change of one document, as the dispatcher coalesces it. */
export interface DocumentChange {
  documentId: string
  actor?: string
  fields: readonly FieldChange[]
}

/**
 * The ONE place that reads the server's change events (`document-committed`, which has the
 * `document-change` payload). Only `local` changes are sent: in a cluster the node that accepted
 * the write reports it, the others (which see it as `remote`) stay quiet, so each change is sent
 * once. The actor is the writing user's id, or for a write of the server (`sync.documents`, an
 * `onLoadDocument` seed) the actor it was given, `server` by default.
 */
export function changeFromEvent(event: DocumentChangeEvent): DocumentChange | undefined {
  if (event.origin !== 'local') return undefined
  const change: DocumentChange = {
    documentId: event.documentId,
    fields: event.fields.map(({ field, value, deleted }) => ({ field, value, deleted })),
  }
  const { actor } = event
  if (actor.kind === 'connection') change.actor = actor.userId
  else if (actor.kind === 'server') change.actor = actor.name ?? 'server'
  return change
}
