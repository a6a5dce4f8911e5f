import type { DocumentSnapshot } from '../crdt/types.js'
import type { OwnedAwarenessEntry, ServerReplyEffect, ServerRequest, ServerWrite } from '../engine/types.js'
import { isJsonValue, isPlainObject, isValidDocumentId } from '../protocol/index.js'
import { getOwn, setOwn } from '../protocol/own.js'
import type { DocumentStore } from '../storage/store.js'
import {
  DocumentApiError,
  type DocumentChange,
  type DocumentPage,
  type DocumentView,
  type FieldMeta,
  type PresenceEntry,
  type ServerDocuments,
} from './documents.js'

/** Largest page of `list`; the default is 100. */
export const MAX_LIST_LIMIT = 1000
/** Longest `actor` of a write or delete. */
const MAX_ACTOR_LENGTH = 256
/** Longest field name (the quotas bound the rest). */
const MAX_FIELD_LENGTH = 1024

/** What `sync.documents` needs from the runtime. */
export interface DocumentsHost {
  readonly store: DocumentStore
  /** False once `sync.close()` was called. */
  accepting(): boolean
  /** Feeds a request to the engine, performs its effects and schedules a flush. */
  submit(request: ServerRequest): void
  /** Present clients this node holds. */
  localPresence(documentId: string): OwnedAwarenessEntry[]
  /** The other nodes' present clients (none on a single node). */
  remotePresence(documentId: string): Promise<OwnedAwarenessEntry[]>
}

interface Pending {
  resolve(reply: Extract<ServerReplyEffect['reply'], { ok: true }>): void
  reject(error: DocumentApiError): void
}

/**
 * `sync.documents`: checks its input, hands reads, writes and deletes to the engine as
 * `ServerRequest`s (see `src/engine/server-requests.ts`), and settles each call when the engine
 * answers with its `server-reply` (a write's once the store committed it).
 */
export class DocumentsApi implements ServerDocuments {
  readonly #host: DocumentsHost
  readonly #pending = new Map<number, Pending>()
  #nextId = 1

  constructor(host: DocumentsHost) {
    this.#host = host
  }

  async get(documentId: string, options: { meta?: boolean } = {}): Promise<DocumentView | undefined> {
    checkDocumentId(documentId)
    const { snapshot } = await this.#request((id) => ({ op: 'read', id, documentId }))
    return snapshot ? viewOf(snapshot, options.meta === true) : undefined
  }

  async update(
    documentId: string,
    change: DocumentChange,
    options: { actor?: string } = {},
  ): Promise<DocumentView> {
    checkDocumentId(documentId)
    const writes = writesOf(change)
    const actor = actorOf(options)
    const { snapshot } = await this.#request((id) => ({ op: 'write', id, documentId, writes, actor }))
    return viewOf(snapshot ?? { documentId, registers: [], clock: {} }, false)
  }

  async list(options: { prefix?: string; after?: string; limit?: number } = {}): Promise<DocumentPage> {
    const { store } = this.#host
    if (!store.list) throw new DocumentApiError('NOT_SUPPORTED', 'The store cannot list documents')
    const { prefix, after } = options
    const limit = options.limit ?? 100
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw invalid(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}`, { limit })
    }
    if (
      prefix !== undefined &&
      (typeof prefix !== 'string' || (prefix !== '' && !isValidDocumentId(prefix)))
    ) {
      throw invalid('prefix must be the start of a valid document id', {
        prefix: String(prefix).slice(0, 300),
      })
    }
    if (after !== undefined && !isValidDocumentId(after)) {
      throw invalid('after must be a document id', { after: String(after).slice(0, 300) })
    }
    this.#checkAccepting()
    let documents: string[]
    try {
      documents = await store.list({
        limit,
        ...(after === undefined ? {} : { after }),
        ...(prefix ? { prefix } : {}),
      })
    } catch (error) {
      throw storeFailed('list', error)
    }
    const last = documents[documents.length - 1]
    return documents.length === limit && last !== undefined ? { documents, next: last } : { documents }
  }

  async delete(documentId: string, options: { actor?: string } = {}): Promise<boolean> {
    checkDocumentId(documentId)
    if (!this.#host.store.delete) {
      throw new DocumentApiError('NOT_SUPPORTED', 'The store cannot delete documents')
    }
    const actor = actorOf(options)
    const { existed } = await this.#request((id) => ({ op: 'delete', id, documentId, actor }))
    return existed === true
  }

  async presence(documentId: string): Promise<PresenceEntry[]> {
    checkDocumentId(documentId)
    this.#checkAccepting()
    const byClient = new Map<string, OwnedAwarenessEntry>()
    const remote = await this.#host.remotePresence(documentId)
    // This node's view wins: it holds its own clients' latest state.
    for (const entry of [...remote, ...this.#host.localPresence(documentId)]) {
      const seen = byClient.get(entry.clientId)
      if (!seen || entry.clock >= seen.clock) byClient.set(entry.clientId, entry)
    }
    const present: PresenceEntry[] = []
    for (const { clientId, state, owner } of byClient.values()) {
      if (state === null) continue
      const entry: PresenceEntry = { clientId, state }
      if (owner?.startsWith('user:')) entry.userId = owner.slice('user:'.length)
      present.push(entry)
    }
    return present.sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0))
  }

  /** The engine answered a request. */
  settle(effect: ServerReplyEffect): void {
    const pending = this.#pending.get(effect.id)
    if (!pending) return
    this.#pending.delete(effect.id)
    const { reply } = effect
    if (reply.ok) pending.resolve(reply)
    else pending.reject(new DocumentApiError(reply.code, reply.message, reply.details))
  }

  /** The server closed: calls still waiting are rejected. */
  close(): void {
    for (const pending of this.#pending.values()) {
      pending.reject(new DocumentApiError('SHUTTING_DOWN', 'The server closed before the call completed'))
    }
    this.#pending.clear()
  }

  #request(make: (id: number) => ServerRequest): Promise<Extract<ServerReplyEffect['reply'], { ok: true }>> {
    this.#checkAccepting()
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.#host.submit(make(id))
    })
  }

  #checkAccepting(): void {
    if (!this.#host.accepting()) throw new DocumentApiError('SHUTTING_DOWN', 'The server is shutting down')
  }
}

function invalid(message: string, details?: Record<string, unknown>): DocumentApiError {
  return new DocumentApiError('INVALID_INPUT', message, details)
}

function storeFailed(operation: string, error: unknown): DocumentApiError {
  const reason = error instanceof Error ? error.message : String(error)
  return new DocumentApiError('STORE_FAILED', `The store failed to ${operation}: ${reason}`, undefined, {
    cause: error,
  })
}

function checkDocumentId(documentId: unknown): asserts documentId is string {
  if (!isValidDocumentId(documentId)) {
    throw invalid('Invalid document id: 1-256 characters of letters, digits, "_", ":", "-"', {
      documentId: String(documentId).slice(0, 300),
    })
  }
}

function actorOf(options: { actor?: string }): string {
  const { actor } = options
  if (actor === undefined) return 'server'
  if (typeof actor !== 'string' || actor.length === 0 || actor.length > MAX_ACTOR_LENGTH) {
    throw invalid(`actor must be a string of 1-${MAX_ACTOR_LENGTH} characters`)
  }
  return actor
}

/** The change as the engine's writes: at least one field, none both set and deleted. */
function writesOf(change: unknown): ServerWrite[] {
  if (!isPlainObject(change)) throw invalid('The change must be an object { set?, delete? }')
  const { set, delete: deleted } = change as { set?: unknown; delete?: unknown }
  const writes: ServerWrite[] = []
  const fields = new Set<string>()
  const add = (field: unknown, value: unknown, isDelete: boolean): void => {
    if (typeof field !== 'string' || field.length === 0 || field.length > MAX_FIELD_LENGTH) {
      throw invalid(`Field names are strings of 1-${MAX_FIELD_LENGTH} characters`, {
        field: String(field).slice(0, 128),
      })
    }
    if (fields.has(field))
      throw invalid(`Field ${field.slice(0, 128)} is named twice`, { field: field.slice(0, 128) })
    fields.add(field)
    if (!isDelete && !isJsonValue(value)) {
      throw invalid(`The value of ${field.slice(0, 128)} is not JSON`, { field: field.slice(0, 128) })
    }
    writes.push({ field, value: isDelete ? null : (value as ServerWrite['value']), deleted: isDelete })
  }
  if (set !== undefined) {
    if (!isPlainObject(set)) throw invalid('set must be an object of field values')
    for (const field of Object.keys(set)) add(field, getOwn(set, field), false)
  }
  if (deleted !== undefined) {
    if (!Array.isArray(deleted)) throw invalid('delete must be an array of field names')
    for (const field of deleted) add(field, null, true)
  }
  if (writes.length === 0) throw invalid('The change is empty: give set or delete')
  return writes
}

function viewOf(snapshot: DocumentSnapshot, withMeta: boolean): DocumentView {
  const fields: DocumentView['fields'] = {}
  const meta: Record<string, FieldMeta> = {}
  for (const { field, value, deleted, stamp } of snapshot.registers) {
    if (!deleted) setOwn(fields, field, value)
    if (withMeta)
      setOwn(meta, field, { value: deleted ? null : value, deleted, updatedAt: stamp.ms, nodeId: stamp.node })
  }
  const clock: DocumentView['clock'] = {}
  for (const [node, seq] of Object.entries(snapshot.clock)) setOwn(clock, node, seq)
  const view: DocumentView = { id: snapshot.documentId, fields, clock }
  if (withMeta) view.meta = meta
  return view
}
