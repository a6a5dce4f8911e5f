import type { AuthorizeRequest, DocumentAction, Principal } from './types.js'

/**
 * One permission pattern: `*` matches every document, `prefix*` every id starting with `prefix`
 * (e.g. `room:abc:*`), anything else only that exact id.
 */
export function matchesPattern(pattern: string, documentId: string): boolean {
  if (pattern === '*') return true
  if (pattern.endsWith('*')) return documentId.startsWith(pattern.slice(0, -1))
  return pattern === documentId
}

/** Default policy (docs/protocol.md §5.1, D18): `isAdmin`, `*`, prefixes; write implies read. */
export function rbacPolicy({ principal, action, documentId }: AuthorizeRequest): boolean {
  return rbacAllows(principal, action, documentId)
}

/** `rbacPolicy` without a request object: the engine's check under the default policy, per message. */
export function rbacAllows(principal: Principal, action: DocumentAction, documentId: string): boolean {
  const { permissions } = principal
  if (permissions.isAdmin) return true
  if (anyMatches(permissions.canWrite, documentId)) return true
  return action === 'read' && anyMatches(permissions.canRead, documentId)
}

function anyMatches(patterns: readonly string[], documentId: string): boolean {
  for (const pattern of patterns) {
    if (typeof pattern === 'string' && matchesPattern(pattern, documentId)) return true
  }
  return false
}
