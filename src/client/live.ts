import type { DocumentReplica, DocumentSubscription, DocumentView } from './types.js'

type Listener = (view: DocumentView) => void

/**
 * One `subscribe(documentId, onChange)`: a view built on demand and kept until something about
 * the document changes, so `current` is the same object between changes (what React's
 * `useSyncExternalStore` requires). Changes within one turn reach `onChange` once, in a
 * microtask: never re-entrantly from inside a client call, never with a half-applied message.
 */
class LiveDocument implements DocumentSubscription {
  #view: DocumentView | undefined
  #scheduled = false
  #active = true

  constructor(
    readonly documentId: string,
    readonly ready: Promise<DocumentReplica>,
    private readonly build: () => DocumentView,
    private readonly onChange: Listener,
    private readonly publish: DocumentSubscription['setPresence'],
    private readonly detach: (live: LiveDocument) => void,
  ) {}

  get current(): DocumentView {
    this.#view ??= this.build()
    return this.#view
  }

  setPresence(state: Parameters<DocumentSubscription['setPresence']>[0]): void {
    this.publish(state)
  }

  unsubscribe(): void {
    if (!this.#active) return
    this.#active = false
    this.detach(this)
  }

  invalidate(): void {
    this.#view = undefined
    if (this.#scheduled || !this.#active) return
    this.#scheduled = true
    queueMicrotask(() => {
      this.#scheduled = false
      if (this.#active) this.onChange(this.current)
    })
  }
}

export interface LiveSource {
  view(documentId: string): DocumentView
  setPresence(documentId: string, state: Parameters<DocumentSubscription['setPresence']>[0]): void
  /** Reports a throwing `onChange` instead of letting it escape into a microtask. */
  reportError(error: unknown): void
}

/** The live views of a client, by document. */
export class LiveDocuments {
  private readonly byDocument = new Map<string, Set<LiveDocument>>()

  constructor(private readonly source: LiveSource) {}

  add(documentId: string, ready: Promise<DocumentReplica>, onChange: Listener): DocumentSubscription {
    const live: LiveDocument = new LiveDocument(
      documentId,
      ready,
      () => this.source.view(documentId),
      (view) => {
        try {
          onChange(view)
        } catch (error) {
          this.source.reportError(error)
        }
      },
      (state) => this.source.setPresence(documentId, state),
      (gone) => this.remove(gone),
    )
    let set = this.byDocument.get(documentId)
    if (!set) {
      set = new Set()
      this.byDocument.set(documentId, set)
    }
    set.add(live)
    live.invalidate()
    return live
  }

  /** Something about the document changed: its views are rebuilt on the next read. */
  touch(documentId: string): void {
    const set = this.byDocument.get(documentId)
    if (set) for (const live of set) live.invalidate()
  }

  /** The connection state changed: every view shows it. */
  touchAll(): void {
    for (const documentId of this.byDocument.keys()) this.touch(documentId)
  }

  private remove(live: LiveDocument): void {
    const set = this.byDocument.get(live.documentId)
    set?.delete(live)
    if (set?.size === 0) this.byDocument.delete(live.documentId)
  }
}
