import type { JsonObject, JsonValue } from '../crdt/types.js'
import { setOwn } from '../protocol/own.js'
import { utf8Length } from '../protocol/utf8.js'
import type { DocumentChange, PresenceChangedMessage, WebhookBody } from './payload.js'

export interface CoalescerOptions {
  /** A window opens with its first change and closes this long after (ms). */
  intervalMs: number
  /** Open windows at most; the oldest closes early past it. */
  maxWindows: number
  /** Estimated bytes held by open windows at most; the oldest close early past it. */
  maxBytes: number
  now: () => number
  /** Receives one body per closed window. */
  emit: (body: WebhookBody) => void
}

const MAX_ACTORS = 32

/** A document's open window: due `intervalMs` after its first change, sized for the bounds. */
abstract class Window {
  bytes: number
  lastAt: number

  constructor(
    readonly documentId: string,
    readonly dueAt: number,
    now: number,
  ) {
    this.lastAt = now
    this.bytes = utf8Length(documentId) + 64
  }

  abstract body(): WebhookBody
}

/** Field name + JSON text: what a field adds to a body, near enough to bound memory. */
function fieldBytes(field: string, value: JsonValue): number {
  return utf8Length(field) + utf8Length(JSON.stringify(value) ?? 'null') + 8
}

class ChangeWindow extends Window {
  readonly fields = new Map<string, { value: JsonValue; deleted: boolean; bytes: number }>()
  readonly actors = new Set<string>()

  merge(change: DocumentChange, now: number): void {
    this.lastAt = now
    if (change.actor !== undefined && this.actors.size < MAX_ACTORS) this.actors.add(change.actor)
    for (const { field, value, deleted } of change.fields) {
      const bytes = fieldBytes(field, deleted ? null : value)
      this.bytes += bytes - (this.fields.get(field)?.bytes ?? 0)
      // Re-inserted so the body lists fields in the order they last changed.
      this.fields.delete(field)
      this.fields.set(field, { value: deleted ? null : value, deleted, bytes })
    }
  }

  override body(): WebhookBody {
    const set: Record<string, JsonValue> = {}
    const deleted: string[] = []
    for (const [field, entry] of this.fields) {
      if (entry.deleted) deleted.push(field)
      else setOwn(set, field, entry.value)
    }
    const data = {
      documentId: this.documentId,
      ...(this.actors.size > 0 ? { actors: [...this.actors] } : {}),
      set,
      delete: deleted,
    }
    return { type: 'document.changed', timestamp: new Date(this.lastAt).toISOString(), data }
  }
}

class PresenceWindow extends Window {
  readonly clients = new Map<string, { state: JsonObject | null; bytes: number }>()

  merge(clientId: string, state: JsonObject | null, now: number): void {
    this.lastAt = now
    const bytes = fieldBytes(clientId, state)
    this.bytes += bytes - (this.clients.get(clientId)?.bytes ?? 0)
    this.clients.set(clientId, { state, bytes })
  }

  override body(): PresenceChangedMessage {
    const clients: Record<string, JsonObject | null> = {}
    for (const [clientId, { state }] of this.clients) setOwn(clients, clientId, state)
    return {
      type: 'presence.changed',
      timestamp: new Date(this.lastAt).toISOString(),
      data: { documentId: this.documentId, clients },
    }
  }
}

/**
 * Coalesces bursts per document: the first change of a document opens a window, later changes
 * merge into it (latest value per field), and when it closes one body goes out. So a document
 * produces at most one call per interval, whatever the write rate.
 *
 * Windows open in time order, so they are due in insertion order: one timer, for the oldest.
 */
export class Coalescer {
  readonly #options: CoalescerOptions
  readonly #windows = new Map<string, Window>()
  #bytes = 0
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(options: CoalescerOptions) {
    this.#options = options
  }

  get size(): number {
    return this.#windows.size
  }

  get bytes(): number {
    return this.#bytes
  }

  change(change: DocumentChange): void {
    if (change.fields.length === 0) return
    const now = this.#options.now()
    const key = `c:${change.documentId}`
    let window = this.#windows.get(key)
    if (!(window instanceof ChangeWindow)) {
      window = new ChangeWindow(change.documentId, now + this.#options.intervalMs, now)
      this.#open(key, window)
    }
    this.#resize(window, () => (window as ChangeWindow).merge(change, now))
  }

  presence(documentId: string, clientId: string, state: JsonObject | null): void {
    const now = this.#options.now()
    const key = `p:${documentId}`
    let window = this.#windows.get(key)
    if (!(window instanceof PresenceWindow)) {
      window = new PresenceWindow(documentId, now + this.#options.intervalMs, now)
      this.#open(key, window)
    }
    this.#resize(window, () => (window as PresenceWindow).merge(clientId, state, now))
  }

  /** Closes the document's change window now (before its deletion is sent, to keep order). */
  flushDocument(documentId: string): void {
    this.#close(`c:${documentId}`)
  }

  /** Closes every window now and stops the timer. */
  flushAll(): void {
    for (const key of [...this.#windows.keys()]) this.#close(key)
    this.#stopTimer()
  }

  #open(key: string, window: Window): void {
    this.#windows.set(key, window)
    this.#bytes += window.bytes
    while (this.#windows.size > this.#options.maxWindows) this.#closeOldest()
    if (this.#timer === undefined) this.#schedule()
  }

  #resize(window: Window, merge: () => void): void {
    const before = window.bytes
    merge()
    this.#bytes += window.bytes - before
    // The window just merged into may be the oldest: it then goes out early, which is fine.
    while (this.#bytes > this.#options.maxBytes && this.#windows.size > 0) this.#closeOldest()
  }

  #closeOldest(): void {
    const oldest = this.#windows.keys().next()
    if (!oldest.done) this.#close(oldest.value)
  }

  #close(key: string): void {
    const window = this.#windows.get(key)
    if (!window) return
    this.#windows.delete(key)
    this.#bytes -= window.bytes
    this.#options.emit(window.body())
  }

  #schedule(): void {
    this.#stopTimer()
    const oldest = this.#windows.values().next()
    if (oldest.done) return
    const delay = Math.max(0, oldest.value.dueAt - this.#options.now())
    this.#timer = setTimeout(() => this.#tick(), delay)
  }

  #tick(): void {
    this.#timer = undefined
    const now = this.#options.now()
    for (const [key, window] of this.#windows) {
      if (window.dueAt > now) break
      this.#close(key)
    }
    this.#schedule()
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }
}
