import type { VerifyCredentialsHook } from '../../auth/hooks.js'

/** Who may use the inspector's API: how a request's credentials are checked. */
export interface InspectorAuth {
  /** `auth.required: false`: anonymous mode, where every request is let in (development). */
  readonly anonymous: boolean
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
 * Anonymous mode lets every request in (anonymous connections read and write every document
 * there by default). Cookies are never read, so another site cannot act with the operator's.
 */
export async function inspectorAccess(request: Request, auth: InspectorAuth): Promise<InspectorAccess> {
  if (auth.anonymous) return 'admin'
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
