import type { Permissions } from '../protocol/types.js'
import { type ApiKeyEntry, MIN_API_KEY_LENGTH } from './api-keys.js'
import { AuthConfigError } from './errors.js'

const SETTING = 'SYNCKIT_AUTH_APIKEYS'
const KEY = /^[A-Za-z0-9_.~-]+$/
const NAME = /^[A-Za-z0-9_.-]+$/
/** `*`, an exact document id (the charset of docs/protocol.md §3.4) or `prefix*`. */
const PATTERN = /^(\*|[A-Za-z0-9_:-]+\*?)$/

/**
 * Parses `SYNCKIT_AUTH_APIKEYS`: comma-separated entries `[name:]key[=scope]`.
 *
 * - `key`: 12+ characters of `A-Z a-z 0-9 _ . ~ -`.
 * - `name`: the principal becomes `api-key:<name>`; without one, `api-key:<position>` (1-based),
 *   so the key itself never appears in user ids, logs or presence.
 * - `scope`: `READ/WRITE`, each a `+`-separated pattern list (`*`, exact id, `prefix*`, may be
 *   empty), or `admin`. Without a scope: read/write `*`, not admin (the C# reference made every
 *   key an admin; here admin must be asked for).
 *
 * Example: `sk_dev_test123, ops:sk_ops_0123456789=admin, rooms:sk_rooms_01234567=room:*+lobby/room:*`
 * (an empty WRITE list, `READ/`, makes a read-only key).
 * Errors name the setting and the entry position, never the key.
 */
export function parseApiKeysEnv(value: string): ApiKeyEntry[] {
  const entries: ApiKeyEntry[] = []
  const names = new Set<string>()
  const keys = new Set<string>()
  const parts = value.split(',').map((part) => part.trim())
  let position = 0
  for (const part of parts) {
    if (part === '') continue
    position++
    const fail = (message: string) => new AuthConfigError(SETTING, `entry ${position}: ${message}`)
    const equals = part.indexOf('=')
    const head = equals === -1 ? part : part.slice(0, equals)
    const scope = equals === -1 ? undefined : part.slice(equals + 1).trim()
    const colon = head.indexOf(':')
    const name = colon === -1 ? String(position) : head.slice(0, colon).trim()
    const key = (colon === -1 ? head : head.slice(colon + 1)).trim()
    if (!NAME.test(name)) throw fail('name may only contain letters, digits, "_", "." and "-"')
    if (!KEY.test(key)) throw fail('key may only contain letters, digits, "_", ".", "~" and "-"')
    if (key.length < MIN_API_KEY_LENGTH) throw fail(`key must be at least ${MIN_API_KEY_LENGTH} characters`)
    if (keys.has(key)) throw fail('duplicate key')
    if (names.has(name)) throw fail(`duplicate name "${name}"`)
    keys.add(key)
    names.add(name)
    entries.push({ key, userId: `api-key:${name}`, permissions: parseScope(scope, fail) })
  }
  return entries
}

function parseScope(scope: string | undefined, fail: (message: string) => Error): Permissions {
  if (scope === undefined) return { canRead: ['*'], canWrite: ['*'], isAdmin: false }
  if (scope === 'admin') return { canRead: [], canWrite: [], isAdmin: true }
  const slash = scope.indexOf('/')
  if (slash === -1) throw fail('scope must be "READ/WRITE" pattern lists or "admin"')
  return {
    canRead: patterns(scope.slice(0, slash), fail),
    canWrite: patterns(scope.slice(slash + 1), fail),
    isAdmin: false,
  }
}

function patterns(list: string, fail: (message: string) => Error): string[] {
  const trimmed = list.trim()
  if (trimmed === '') return []
  return trimmed.split('+').map((pattern) => {
    const p = pattern.trim()
    if (!PATTERN.test(p)) throw fail(`invalid pattern "${p}" (use *, an exact id or prefix*)`)
    return p
  })
}
