/**
 * Prototype-safe helpers for string-keyed records built from untrusted keys. Plain assignment of
 * `obj['__proto__'] = v` would call the Object.prototype setter (changing the prototype) instead
 * of creating a field; `defineProperty` always creates an own, enumerable data property.
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
