import type { VerifyCredentialsHook } from '../../auth/hooks.js'
import type { Permissions } from '../../protocol/types.js'

/** Who may use the inspector's API: how a request's credentials are checked. */
export interface InspectorAuth {
  /**
   * Anonymous mode (`auth.required: false`) where anonymous connections may write every document
   * (the default `anonymousPermissions`): every request is let in (development).
   */
  readonly openToAnonymous: boolean
  /** The server's credential check (JWT / API keys, or `auth.verifyCredentials`). */
  readonly verifyCredentials: VerifyCredentialsHook | undefined
}

/**
 * `admin`: let in. Otherwise the HTTP status of the refusal: 401 (no or bad credentials), 403 (not
 * an admin), 503 (the credential check failed).
 */
export type InspectorAccess = 'admin' | 401 | 403 | 503

/**
 * The inspector shows every document and can disconnect anyone, so it asks for what `isAdmin`
 * grants on the WebSocket: `Authorization: Bearer <JWT or API key>` whose principal is an admin.
 * Anonymous mode lets every request in when anonymous connections may write every document
 * anyway (the default there); with narrower anonymous permissions it asks for an admin like
 * authenticated mode. Cookies are never read, so another site cannot act with the operator's.
 */
export async function inspectorAccess(request: Request, auth: InspectorAuth): Promise<InspectorAccess> {
  if (auth.openToAnonymous) return 'admin'
  const header = request.headers.get('authorization')
  const bearer = header === null ? undefined : /^bearer +(\S+) *$/i.exec(header)?.[1]
  if (bearer === undefined || auth.verifyCredentials === undefined) return 401
  let admin: boolean
  try {
    // One value for both: the built-in check tries it as a JWT first, then as an API key.
    const principal = await auth.verifyCredentials({ token: bearer, apiKey: bearer }, { headers: {} })
    if (principal === null) return 401
    if (principal.expiresAt !== undefined && principal.expiresAt <= Date.now()) return 401
    admin = principal.permissions.isAdmin === true
  } catch {
    return 503
  }
  return admin ? 'admin' : 403
}

/** Anonymous mode whose anonymous connections may write (so read) every document, or are admins. */
export function openToAnonymous(anonymous: boolean, permissions: Permissions): boolean {
  return anonymous && (permissions.isAdmin || permissions.canWrite.includes('*'))
}
