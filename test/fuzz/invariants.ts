/**
 * Invariant checks shared by the fuzz properties. A violation throws `InvariantViolation` (the
 * property fails and fast-check shrinks the input), unless its id is in FUZZ_TOLERATE, in which
 * case it is only counted.
 */
import { TOLERATED } from './config.js'

export class InvariantViolation extends Error {
  constructor(
    readonly id: string,
    detail: string,
  ) {
    super(`[${id}] ${detail}`)
    this.name = 'InvariantViolation'
  }
}

/** Tolerated violations seen in this process, by id (reported by the tests that tolerate any). */
export const toleratedCounts = new Map<string, number>()

export function violation(id: string, detail: string): void {
  if (TOLERATED.has(id)) {
    toleratedCounts.set(id, (toleratedCounts.get(id) ?? 0) + 1)
    return
  }
  throw new InvariantViolation(id, detail)
}

export function check(condition: boolean, id: string, detail: () => string): void {
  if (!condition) violation(id, detail())
}

/** Short, printable preview of a frame or value for violation messages. */
export function preview(value: unknown, max = 300): string {
  let text: string
  if (value instanceof Uint8Array) {
    const head = Array.from(value.subarray(0, 48), (b) => b.toString(16).padStart(2, '0')).join(' ')
    text = `bytes(${value.length}) ${head}`
  } else if (typeof value === 'string') {
    text = JSON.stringify(value)
  } else {
    try {
      text = JSON.stringify(value, (_key, v: unknown) =>
        typeof v === 'number' && !Number.isFinite(v) ? `<${String(v)}>` : v,
      )
    } catch (error) {
      text = `<unserialisable: ${String(error)}>`
    }
  }
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text
}

/** True for plain JSON data (see `nonJsonPath`); fast, no allocation per node beyond the stack. */
function isJsonData(value: unknown): boolean {
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const v = stack.pop()
    switch (typeof v) {
      case 'string':
      case 'boolean':
        continue
      case 'number':
        if (!Number.isFinite(v)) return false
        continue
      case 'object': {
        if (v === null) continue
        if (Array.isArray(v)) {
          for (let i = 0; i < v.length; i++) {
            if (!(i in v) || v[i] === undefined) return false
            stack.push(v[i])
          }
          continue
        }
        const proto: unknown = Object.getPrototypeOf(v)
        if (proto !== Object.prototype && proto !== null) return false
        for (const child of Object.values(v)) if (child !== undefined) stack.push(child)
        continue
      }
      default:
        return false
    }
  }
  return true
}

/**
 * Where `value` stops being plain JSON data (a path), or undefined when it is JSON: finite numbers,
 * strings, booleans, null, dense arrays and plain objects. Object properties holding `undefined`
 * are accepted (JSON.stringify leaves them out, which is how optional fields are encoded).
 * Iterative, so hostile nesting cannot overflow the stack here.
 */
export function nonJsonPath(value: unknown): string | undefined {
  if (isJsonData(value)) return undefined
  const stack: { v: unknown; path: string }[] = [{ v: value, path: '$' }]
  while (stack.length > 0) {
    const item = stack.pop()
    if (item === undefined) break
    const { v, path } = item
    switch (typeof v) {
      case 'string':
      case 'boolean':
        continue
      case 'number':
        if (!Number.isFinite(v)) return `${path} = ${String(v)}`
        continue
      case 'object': {
        if (v === null) continue
        if (Array.isArray(v)) {
          for (let i = 0; i < v.length; i++) {
            if (!(i in v) || v[i] === undefined) return `${path}[${i}] is a hole or undefined`
            stack.push({ v: v[i], path: `${path}[${i}]` })
          }
          continue
        }
        const proto: unknown = Object.getPrototypeOf(v)
        if (proto !== Object.prototype && proto !== null) return `${path} is not a plain object`
        for (const key of Object.keys(v)) {
          const child: unknown = (v as Record<string, unknown>)[key]
          if (child !== undefined) stack.push({ v: child, path: `${path}.${key}` })
        }
        continue
      }
      default:
        return `${path} is a ${typeof v}`
    }
  }
  return undefined
}

/** Nesting depth as the protocol counts it (a scalar at top level is 0, `{}` and `[]` are 1). */
export function jsonDepth(value: unknown): number {
  let max = 0
  const stack: { v: unknown; d: number }[] = [{ v: value, d: 1 }]
  while (stack.length > 0) {
    const item = stack.pop()
    if (item === undefined) break
    if (typeof item.v !== 'object' || item.v === null) continue
    if (item.d > max) max = item.d
    for (const child of Object.values(item.v)) stack.push({ v: child, d: item.d + 1 })
  }
  return max
}

/**
 * Canonical JSON text (sorted keys, `__proto__` kept as data), for equality of JSON values
 * independent of key order. JSON semantics: -0 prints as 0, undefined properties are dropped.
 */
export function canonicalJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return v
      const record = v as Record<string, unknown>
      // fromEntries defines properties, so a `__proto__` key stays an own data property.
      return Object.fromEntries(
        Object.keys(record)
          .sort()
          .map((k) => [k, record[k]]),
      )
    }) ?? 'undefined'
  )
}

const PROTOTYPES: readonly [string, object][] = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['String.prototype', String.prototype],
  ['Number.prototype', Number.prototype],
]
const baseline = new Map(PROTOTYPES.map(([name, proto]) => [name, Reflect.ownKeys(proto).length]))

/** Fails if any hostile `__proto__` / `constructor.prototype` payload reached a shared prototype. */
export function checkNoPollution(context: () => string): void {
  const probe: Record<string, unknown> = {}
  check(probe.polluted === undefined, 'prototype-pollution', () => `({}).polluted is set after ${context()}`)
  for (const [name, proto] of PROTOTYPES) {
    const count = Reflect.ownKeys(proto).length
    check(count === baseline.get(name), 'prototype-pollution', () => `${name} gained keys after ${context()}`)
  }
  check(
    Object.getPrototypeOf(probe) === Object.prototype,
    'prototype-pollution',
    () => `a fresh object has a swapped prototype after ${context()}`,
  )
}
