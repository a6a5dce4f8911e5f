import type { DocumentStore } from '../storage/store.js'
import {
  DocumentApiError,
  type DocumentChange,
  type DocumentPage,
  type DocumentView,
  type PresenceEntry,
  type ServerDocuments,
} from './documents.js'

/** The implementation of `sync.documents` (work in progress: see docs/documents.md). */
export class DocumentsApi implements ServerDocuments {
  readonly #store: DocumentStore

  constructor(store: DocumentStore) {
    this.#store = store
  }

  async get(_documentId: string, _options?: { meta?: boolean }): Promise<DocumentView | undefined> {
    throw notYet('get')
  }

  async update(
    _documentId: string,
    _change: DocumentChange,
    _options?: { actor?: string },
  ): Promise<DocumentView> {
    throw notYet('update')
  }

  async list(_options?: { prefix?: string; after?: string; limit?: number }): Promise<DocumentPage> {
    if (!this.#store.list) throw new DocumentApiError('NOT_SUPPORTED', 'the store cannot list documents')
    throw notYet('list')
  }

  async delete(_documentId: string): Promise<boolean> {
    throw notYet('delete')
  }

  async presence(_documentId: string): Promise<PresenceEntry[]> {
    throw notYet('presence')
  }
}

function notYet(call: string): DocumentApiError {
  return new DocumentApiError('NOT_SUPPORTED', `sync.documents.${call} is not implemented yet`)
}
