import { rbacPolicy } from '../../src/engine/rbac.js'
import type { AuthorizePolicy } from '../../src/engine/types.js'

/**
 * Which documents one Durable Object serves. Each document must live in exactly one object (its
 * SQLite is the only copy and no broker links objects), so the Worker's route decides both the
 * object and this scope, and the object refuses every document outside it.
 */
export type DocumentScope =
  /** One object per document. */
  | { readonly document: string }
  /** One object per room: the documents whose id starts with `prefix`. */
  | { readonly prefix: string }
  /** One object for every document (small apps, tests). */
  | { readonly all: true }

/** Set by the Worker on every request it forwards; a client's own value is overwritten. */
export const SCOPE_HEADER = 'synckit-document-scope'

export function inScope(scope: DocumentScope | undefined, documentId: string): boolean {
  if (scope === undefined) return false
  if ('document' in scope) return documentId === scope.document
  if ('prefix' in scope) return documentId.startsWith(scope.prefix)
  return scope.all === true
}

export function sameScope(a: DocumentScope, b: DocumentScope): boolean {
  return encodeScope(a) === encodeScope(b)
}

export function encodeScope(scope: DocumentScope): string {
  if ('document' in scope) return JSON.stringify({ document: scope.document })
  if ('prefix' in scope) return JSON.stringify({ prefix: scope.prefix })
  return JSON.stringify({ all: true })
}

/** The scope a stored or forwarded value names, or undefined when it is not one. */
export function decodeScope(value: unknown): DocumentScope | undefined {
  let parsed: unknown = value
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value)
    } catch {
      return undefined
    }
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined
  const record = parsed as Record<string, unknown>
  if (typeof record.document === 'string') return { document: record.document }
  if (typeof record.prefix === 'string') return { prefix: record.prefix }
  if (record.all === true) return { all: true }
  return undefined
}

/** The app's policy (RBAC by default), and never a document outside the object's scope. */
export function scopedPolicy(
  scope: () => DocumentScope | undefined,
  policy: AuthorizePolicy = rbacPolicy,
): AuthorizePolicy {
  return (request) => inScope(scope(), request.documentId) && policy(request)
}
