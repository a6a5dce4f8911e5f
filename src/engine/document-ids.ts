/**
 * The documents (or presence rooms) one connection watches. Nearly every connection watches one,
 * which is held inline: a `Set` costs some 170 bytes even for one entry, times tens of thousands
 * of connections. A second document turns it into a `Set`.
 */
export class DocumentIds implements Iterable<string> {
  #one: string | undefined
  #many: Set<string> | undefined

  get size(): number {
    if (this.#many) return this.#many.size
    return this.#one === undefined ? 0 : 1
  }

  has(id: string): boolean {
    return this.#many ? this.#many.has(id) : this.#one === id
  }

  add(id: string): void {
    if (this.#many) {
      this.#many.add(id)
    } else if (this.#one === undefined || this.#one === id) {
      this.#one = id
    } else {
      this.#many = new Set([this.#one, id])
      this.#one = undefined
    }
  }

  delete(id: string): boolean {
    if (this.#many) return this.#many.delete(id)
    if (this.#one !== id) return false
    this.#one = undefined
    return true
  }

  [Symbol.iterator](): Iterator<string> {
    if (this.#many) return this.#many.values()
    return (this.#one === undefined ? [] : [this.#one]).values()
  }
}
