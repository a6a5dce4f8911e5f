import type { PersistBatch } from './state.js'

/**
 * Persist batches waiting for the store, in id order (ids only grow). Stores usually complete
 * them in order, so the common case takes the front; a `Map` here cost more than the whole rest
 * of a flush, because deleting its last entry shrinks the table through a runtime call.
 */
export class InFlightBatches {
  readonly #queue: PersistBatch[] = []

  get size(): number {
    return this.#queue.length
  }

  /** `batch.id` must be greater than every id added before. */
  add(batch: PersistBatch): void {
    this.#queue.push(batch)
  }

  /** Removes and returns the batch, or undefined when it is unknown or already settled. */
  take(id: number): PersistBatch | undefined {
    const queue = this.#queue
    if (queue[0]?.id === id) return queue.shift()
    let low = 0
    let high = queue.length - 1
    while (low <= high) {
      const middle = (low + high) >>> 1
      const found = queue[middle] as PersistBatch
      if (found.id === id) return queue.splice(middle, 1)[0]
      if (found.id < id) low = middle + 1
      else high = middle - 1
    }
    return undefined
  }
}
