import type { Principal } from '../engine/types.js'
import type { Permissions } from '../protocol/types.js'
import { bytesEqual, sha256 } from './constant-time.js'
import { AuthError } from './errors.js'
import { assertPermissions, clonePermissions } from './permissions.js'

/** One configured key and the principal it stands for. */
export interface ApiKeyEntry {
  key: string
  userId: string
  permissions: Permissions
}

/** App lookup (e.g. a database of hashed keys). Return null to refuse. Compare in constant time yourself. */
export type ApiKeyLookup = (key: string) => Promise<Principal | null>

/** API keys: a list, or a lookup callback. */
export type ApiKeySource = readonly ApiKeyEntry[] | ApiKeyLookup

/** Resolves a presented key to its principal, or throws `AuthError`. */
export type ApiKeyVerifier = (key: string) => Promise<Principal>

/** Shorter keys are guessable; the C# reference's development keys (14 characters) still pass. */
export const MIN_API_KEY_LENGTH = 12
/** Presented keys longer than this are refused before hashing. */
export const MAX_API_KEY_LENGTH = 1_024

/** A verifier comparing keys in constant time (list) or asking the lookup. */
export function createApiKeyVerifier(source: ApiKeySource): ApiKeyVerifier {
  return typeof source === 'function' ? lookupVerifier(source) : listVerifier(source)
}

function listVerifier(entries: readonly ApiKeyEntry[]): ApiKeyVerifier {
  const seen = new Set<string>()
  const checked = entries.map((entry, index) => {
    const what = `apiKeys[${index}]`
    if (typeof entry.key !== 'string' || entry.key.length < MIN_API_KEY_LENGTH) {
      throw new TypeError(`${what}: key must be at least ${MIN_API_KEY_LENGTH} characters`)
    }
    if (entry.key.length > MAX_API_KEY_LENGTH) throw new TypeError(`${what}: key is too long`)
    if (seen.has(entry.key)) throw new TypeError(`${what}: duplicate key`)
    seen.add(entry.key)
    if (typeof entry.userId !== 'string' || entry.userId.length === 0) {
      throw new TypeError(`${what}: userId must be a non-empty string`)
    }
    return { key: entry.key, userId: entry.userId, permissions: assertPermissions(entry.permissions, what) }
  })
  // Hash once, lazily: construction stays synchronous and keys are never compared as plain strings.
  let digests: Promise<Uint8Array[]> | undefined
  return async (key) => {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_API_KEY_LENGTH) {
      throw new AuthError('API_KEY_INVALID', 'Invalid API key')
    }
    digests ??= Promise.all(checked.map((entry) => sha256(entry.key)))
    const [known, presented] = await Promise.all([digests, sha256(key)])
    // Visit every entry, no early exit, so timing does not reveal which (or whether) one matched.
    let match = -1
    known.forEach((digest, index) => {
      if (bytesEqual(digest, presented)) match = index
    })
    const entry = checked[match]
    if (!entry) throw new AuthError('API_KEY_INVALID', 'Invalid API key')
    return { userId: entry.userId, permissions: clonePermissions(entry.permissions), via: 'apiKey' }
  }
}

function lookupVerifier(lookup: ApiKeyLookup): ApiKeyVerifier {
  return async (key) => {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_API_KEY_LENGTH) {
      throw new AuthError('API_KEY_INVALID', 'Invalid API key')
    }
    let principal: Principal | null
    try {
      principal = await lookup(key)
    } catch (error) {
      throw new AuthError('CALLBACK_FAILED', 'API key lookup failed', { cause: error })
    }
    if (principal === null || principal === undefined)
      throw new AuthError('API_KEY_INVALID', 'Invalid API key')
    if (typeof principal.userId !== 'string' || principal.userId.length === 0) {
      throw new AuthError('CALLBACK_FAILED', 'API key lookup returned a principal without userId')
    }
    let permissions: Permissions
    try {
      permissions = assertPermissions(principal.permissions, 'apiKeys lookup')
    } catch (error) {
      throw new AuthError('CALLBACK_FAILED', (error as Error).message, { cause: error })
    }
    return { ...principal, permissions, via: principal.via ?? 'apiKey' }
  }
}
