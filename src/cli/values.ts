import { ConfigError } from './args.js'

/**
 * Reading settings from the environment: every bad value is refused with a message naming the
 * setting (`Invalid PORT "abc": expected ...`), never silently replaced by a default.
 */

export type Env = Readonly<Record<string, string | undefined>>

/** A variable's trimmed value; empty counts as unset. */
export type EnvReader = (name: string) => string | undefined

export function envReader(env: Env): EnvReader {
  return (name) => {
    const value = env[name]?.trim()
    return value ? value : undefined
  }
}

export function invalid(setting: string, value: string, expected: string): ConfigError {
  return new ConfigError(setting, `Invalid ${setting} "${value}": ${expected}`)
}

export function integer(
  setting: string,
  value: string | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  return optionalInteger(setting, value, min, max) ?? fallback
}

export function optionalInteger(
  setting: string,
  value: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN
  if (Number.isSafeInteger(n) && n >= min && n <= max) return n
  const range =
    max === Number.MAX_SAFE_INTEGER
      ? min === 1
        ? 'a positive integer'
        : `an integer of at least ${min}`
      : `an integer between ${min} and ${max}`
  throw invalid(setting, value, `expected ${range}`)
}

export function boolean(setting: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined
  const lower = value.toLowerCase()
  if (lower === 'true' || lower === '1') return true
  if (lower === 'false' || lower === '0') return false
  throw invalid(setting, value, 'expected true or false')
}

/** Refuses anything but an absolute URL with a host and one of `protocols`. */
export function checkUrl(setting: string, value: string, protocols: string[], expected: string): void {
  let ok = false
  try {
    const url = new URL(value)
    ok = protocols.includes(url.protocol) && url.hostname !== ''
  } catch {
    ok = false
  }
  if (!ok) throw invalid(setting, redact(value), `expected ${expected}`)
}

/** Connection strings carry passwords; error messages and banners end up in logs. */
export function redact(value: string): string {
  return value.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@')
}

/** `SYNCKIT_PG_SCHEMA` and the like: a plain lower-case SQL identifier, quoted nowhere. */
export function schemaName(setting: string, value: string | undefined): string | undefined {
  if (value === undefined || /^[a-z_][a-z0-9_]{0,62}$/.test(value)) return value
  throw invalid(
    setting,
    value,
    'expected a lower-case identifier of [a-z0-9_] (not starting with a digit), at most 63 characters',
  )
}
