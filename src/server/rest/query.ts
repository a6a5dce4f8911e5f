import { refuse } from './responses.js'

/** Query parameters, each given at most once; a bad one is 400 `INVALID_INPUT`. */

export function stringParam(url: URL, name: string): string | undefined {
  const values = url.searchParams.getAll(name)
  if (values.length > 1) throw refuse(400, 'INVALID_INPUT', `Query parameter "${name}" given twice`)
  return values[0]
}

/** A decimal integer; its range is the document API's to check. */
export function integerParam(url: URL, name: string): number | undefined {
  const value = stringParam(url, name)
  if (value === undefined) return undefined
  const n = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isSafeInteger(n)) {
    throw refuse(400, 'INVALID_INPUT', `Query parameter "${name}" must be a non-negative integer`)
  }
  return n
}

/** `1`/`true` or `0`/`false` (absent: false). */
export function booleanParam(url: URL, name: string): boolean {
  const value = stringParam(url, name)
  if (value === undefined || value === '0' || value === 'false') return false
  if (value === '1' || value === 'true') return true
  throw refuse(400, 'INVALID_INPUT', `Query parameter "${name}" must be 1, 0, true or false`)
}
