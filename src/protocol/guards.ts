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

/** The delete marker `{"__deleted": true}` (docs/protocol.md §6.2). */
export function isTombstone(value: unknown): boolean {
  return isPlainObject(value) && getOwn(value, '__deleted') === true
}

/**
 * Deepest accepted nesting of a frame's JSON. `JSON.parse` copes with any depth, but
 * `JSON.stringify` and `structuredClone` recurse, so a hostile 500k-deep array would overflow
 * the stack later, when the value is echoed or stored.
 */
export const MAX_JSON_DEPTH = 64

/**
 * Nesting a server reply adds around client values (`sync_response.state.<field>`,
 * `awareness_state.states[].state`, `deltas[].value`): clients accept this much more, so a value
 * the server accepted never makes its replies undecodable.
 */
export const REPLY_NESTING = 8

/** Deeper limits than this are walked with an explicit stack instead of recursion. */
const RECURSION_LIMIT = 256

/**
 * True when `value` is not safe to keep and echo: nested deeper than `maxDepth`, or holding a
 * number JSON cannot carry (`1e999` parses to Infinity, which would be stored as Infinity but
 * sent as `null`). Checking a hostile value cannot itself overflow the stack: the recursion stops
 * at `maxDepth`, and larger limits use an explicit stack.
 */
export function unsafeJson(value: unknown, maxDepth: number): boolean {
  return maxDepth <= RECURSION_LIMIT ? unsafeBelow(value, 1, maxDepth) : unsafeIterative(value, maxDepth)
}

/** Recursive walk, no allocation: the common case of every frame. */
function unsafeBelow(value: unknown, depth: number, maxDepth: number): boolean {
  if (typeof value === 'number') return !Number.isFinite(value)
  if (typeof value !== 'object' || value === null) return false
  if (depth > maxDepth) return true
  if (Array.isArray(value)) {
    for (const child of value) if (unsafeBelow(child, depth + 1, maxDepth)) return true
    return false
  }
  const object = value as Record<string, unknown>
  for (const key in object) if (unsafeBelow(object[key], depth + 1, maxDepth)) return true
  return false
}

function unsafeIterative(value: unknown, maxDepth: number): boolean {
  if (typeof value === 'number') return !Number.isFinite(value)
  const pending: unknown[] = [value]
  const depths: number[] = [1]
  while (pending.length > 0) {
    const current = pending.pop()
    const depth = depths.pop() ?? 0
    if (typeof current !== 'object' || current === null) continue
    if (depth > maxDepth) return true
    const children = Array.isArray(current) ? current : Object.values(current)
    for (const child of children) {
      if (typeof child === 'number') {
        if (!Number.isFinite(child)) return true
      } else if (typeof child === 'object' && child !== null) {
        pending.push(child)
        depths.push(depth + 1)
      }
    }
  }
  return false
}
