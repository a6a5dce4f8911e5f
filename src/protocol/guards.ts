import { getOwn } from './own.js'
import type { JsonObject, JsonValue } from './types.js'

/** A non-null, non-array object. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Shallow JSON check. Inputs come from `JSON.parse`, so nested values are JSON already; this only
 * rejects what a direct caller could slip in at the top (undefined, functions, NaN, bigint...).
 */
export function isJsonValue(value: unknown): value is JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(value)
    case 'object':
      return true // null, array or object
    default:
      return false
  }
}

/** Shallow: a plain object (see `isJsonValue` for why shallow is enough). */
export function isJsonObject(value: unknown): value is JsonObject {
  return isPlainObject(value)
}

/** The delete marker `{"__deleted": true}` (PROTOCOL.md §0). */
export function isTombstone(value: unknown): boolean {
  return isPlainObject(value) && getOwn(value, '__deleted') === true
}
