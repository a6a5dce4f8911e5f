/** Deeper or larger values are not kept with a socket: the attachment has room for 16 KiB. */
const MAX_DEPTH = 32
const MAX_NODES = 10_000

/**
 * True when `value` is JSON data: null, strings, booleans, finite numbers, arrays of them and
 * plain objects of them (an `undefined` property is allowed: JSON leaves it out, and reading it
 * gives `undefined` either way). Such a value comes back equal from the socket attachment (a
 * structured clone) and from the SQLite row (JSON text) alike; a `Date`, a `Map`, a class
 * instance or a function would not.
 */
export function isJsonData(value: unknown): boolean {
  let nodes = 0
  const visit = (item: unknown, depth: number): boolean => {
    nodes++
    if (nodes > MAX_NODES || depth > MAX_DEPTH) return false
    if (item === null || typeof item === 'string' || typeof item === 'boolean') return true
    if (typeof item === 'number') return Number.isFinite(item)
    if (typeof item !== 'object') return false
    if (Array.isArray(item)) {
      // By index: `every` would skip the holes of a sparse array, which JSON turns into null.
      for (let index = 0; index < item.length; index++) if (!visit(item[index], depth + 1)) return false
      return true
    }
    const prototype = Object.getPrototypeOf(item)
    if (prototype !== Object.prototype && prototype !== null) return false
    if (Object.getOwnPropertySymbols(item).length > 0) return false
    return Object.values(item).every((field) => field === undefined || visit(field, depth + 1))
  }
  return visit(value, 0)
}
