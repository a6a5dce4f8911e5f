import type { ConnectionId } from './types.js'

/**
 * The connections watching a document or a presence room. Broadcasts address them as an array:
 * the array is built once and shared by every `send` effect until membership changes, instead of
 * one copy per message. It is frozen because effects hold it after later calls replace it.
 */
export class SubscriberSet implements Iterable<ConnectionId> {
  readonly #ids = new Set<ConnectionId>()
  #list: readonly ConnectionId[] | undefined

  get size(): number {
    return this.#ids.size
  }

  has(id: ConnectionId): boolean {
    return this.#ids.has(id)
  }

  add(id: ConnectionId): void {
    if (this.#ids.has(id)) return
    this.#ids.add(id)
    this.#list = undefined
  }

  delete(id: ConnectionId): boolean {
    if (!this.#ids.delete(id)) return false
    this.#list = undefined
    return true
  }

  /** The members in subscription order; the same array until the set changes. */
  list(): readonly ConnectionId[] {
    if (this.#list === undefined) this.#list = Object.freeze([...this.#ids])
    return this.#list
  }

  [Symbol.iterator](): Iterator<ConnectionId> {
    return this.#ids.values()
  }
}
