/**
 * Prototype-safe access to records built from untrusted JSON. `JSON.parse` turns a `"__proto__"`
 * key into an own property; copying it with plain assignment would call the Object.prototype
 * setter and swap the target's prototype instead of storing data.
 */

export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  } else {
    target[key] = value
  }
}

/** Own value of `key`, or `undefined` (never an inherited member such as `toString`). */
export function getOwn<T>(source: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(source, key) ? source[key] : undefined
}
