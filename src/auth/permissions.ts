import type { Permissions } from '../protocol/types.js'
import { AuthError } from './errors.js'

/** What a principal without a permissions claim gets: it can authenticate but access nothing. */
export function noPermissions(): Permissions {
  return { canRead: [], canWrite: [], isAdmin: false }
}

/** A defensive copy, so a caller mutating its object cannot change a principal afterwards. */
export function clonePermissions(permissions: Permissions): Permissions {
  return {
    canRead: [...permissions.canRead],
    canWrite: [...permissions.canWrite],
    isAdmin: permissions.isAdmin === true,
  }
}

/**
 * Reads a `permissions` claim. Missing → no permissions. A JSON string is accepted because some
 * issuers (e.g. .NET claim serialisation) store objects that way. Missing lists default to empty
 * and a missing `isAdmin` to false; anything of the wrong type is refused rather than guessed,
 * since a mis-parsed grant is a privilege bug.
 */
export function parsePermissionsClaim(claim: unknown): Permissions {
  if (claim === undefined || claim === null) return noPermissions()
  let value: unknown = claim
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value)
    } catch {
      throw invalid('permissions claim is a string but not JSON')
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('permissions claim must be an object')
  }
  const record = value as Record<string, unknown>
  return {
    canRead: patternList(record.canRead, 'canRead'),
    canWrite: patternList(record.canWrite, 'canWrite'),
    isAdmin: adminFlag(record.isAdmin),
  }
}

/** Same shape check for permissions handed to us by app callbacks (login, API key lists). */
export function assertPermissions(value: unknown, what: string): Permissions {
  if (typeof value !== 'object' || value === null)
    throw new TypeError(`${what}: permissions must be an object`)
  try {
    return parsePermissionsClaim(value)
  } catch (error) {
    throw new TypeError(`${what}: ${(error as Error).message}`)
  }
}

function patternList(value: unknown, name: string): string[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw invalid(`permissions.${name} must be an array of strings`)
  }
  return [...value]
}

function adminFlag(value: unknown): boolean {
  if (value === undefined || value === null) return false
  if (typeof value !== 'boolean') throw invalid('permissions.isAdmin must be a boolean')
  return value
}

function invalid(message: string): AuthError {
  return new AuthError('TOKEN_INVALID_PERMISSIONS', message)
}
