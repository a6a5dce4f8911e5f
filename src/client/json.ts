import { isTombstone } from '../protocol/guards.js'
import type { JsonObject, JsonValue, VectorClock } from '../protocol/types.js'

/** The delete marker of the wire protocol (docs/protocol.md §6.2). */
export const TOMBSTONE: JsonObject = Object.freeze({ __deleted: true }) as JsonObject

export { isTombstone }

/** Structural equality of two JSON values (key order ignored). */
export function jsonEqual(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    return a.every((item, i) => jsonEqual(item, b[i]))
  }
  const keys = Object.keys(a)
  if (keys.length !== Object.keys(b).length) return false
  return keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]))
}

/** Max-merge `from` into `into` (in place); non-numeric entries are ignored. */
export function mergeClock(into: VectorClock, from: Readonly<Record<string, unknown>> | undefined): void {
  if (!from) return
  for (const [key, value] of Object.entries(from)) {
    // `__proto__` would not be stored as a key; own-property checks keep `toString` & co. out.
    if (typeof value !== 'number' || !Number.isFinite(value) || key === '__proto__') continue
    const current = Object.hasOwn(into, key) ? into[key] : undefined
    if (current === undefined || value > current) into[key] = value
  }
}

/** A random id in the SDK's style (`msg-<ts36>-<rand>`). */
export function randomId(prefix: string): string {
  const rand =
    typeof globalThis.crypto?.randomUUID === 'function'
      ? globalThis.crypto.randomUUID().replaceAll('-', '').slice(0, 12)
      : Math.random().toString(36).slice(2, 14)
  return `${prefix}-${Date.now().toString(36)}-${rand}`
}
