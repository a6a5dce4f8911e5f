import type { Permissions } from '../protocol/types.js'
import { MIN_SECRET_LENGTH } from './algorithms.js'
import { AuthConfigError } from './errors.js'
import { json, readJsonBody } from './http.js'
import { assertPermissions } from './permissions.js'
import { resolveVerifier, type SigningOptions, signAccessToken, signRefreshToken } from './tokens.js'
import type { TokenVerifier, TokenVerifierOptions, VerifiedToken } from './verifier.js'

/** How the routes sign the tokens they issue. */
export interface RouteSigningOptions extends SigningOptions {
  /** Refresh token lifetime. Default `'7d'`; `expiresIn` (access) defaults to `'24h'`. */
  refreshExpiresIn?: string | number
}

/** A user as the app knows it. The app, never the request, decides the permissions. */
export interface AuthUser {
  userId: string
  email?: string
  permissions: Permissions
}

/** Options of `createAuthRoutes`. */
export interface AuthRoutesOptions {
  /** Verifies access tokens (`/verify`, `/me`) and refresh tokens (`/refresh`). */
  verifier: TokenVerifierOptions | TokenVerifier
  /** Needed to mint tokens: without it `/refresh` and `/login` answer 404. */
  signing?: RouteSigningOptions
  /** Enables `POST /login`. Return null for bad credentials. */
  login?: (email: string, password: string) => Promise<AuthUser | null>
  /**
   * Re-reads the user's current grant on refresh (null refuses it), so revoked rights do not
   * survive a refresh. Default: the grant stored in the refresh token.
   */
  refreshUser?: (userId: string, refreshToken: VerifiedToken) => Promise<AuthUser | null>
  /** Default `/auth`. */
  basePath?: string
  /** Unexpected failures (a throwing callback, a signing error); the client gets a bare 500. */
  onError?: (error: unknown, route: string) => void
}

/** Answers an `/auth/*` request, or undefined for another path. */
export type AuthRoutesHandler = (request: Request) => Promise<Response | undefined>

/**
 * The `/auth/*` routes (docs/protocol.md §12) as a fetch-style handler. Resolves `undefined` for paths that are
 * not auth routes, so the runtime can fall through to its own routing.
 */
export function createAuthRoutes(options: AuthRoutesOptions): AuthRoutesHandler {
  const verifier = resolveVerifier(options.verifier)
  const signing = options.signing
  if (signing && typeof signing.secret === 'string' && !signing.secret.includes('-----BEGIN')) {
    if (signing.secret.length < MIN_SECRET_LENGTH) {
      throw new AuthConfigError('signing.secret', `must be at least ${MIN_SECRET_LENGTH} characters`)
    }
  }
  if (options.login && !signing) throw new AuthConfigError('signing', 'login needs signing options')
  const base = (options.basePath ?? '/auth').replace(/\/+$/, '')

  const issue = async (user: AuthUser) => {
    if (!signing) throw new Error('signing not configured')
    const { refreshExpiresIn, ...access } = signing
    const refresh: SigningOptions = { ...access }
    if (refreshExpiresIn !== undefined) refresh.expiresIn = refreshExpiresIn
    else delete refresh.expiresIn
    const [accessToken, refreshToken] = await Promise.all([
      signAccessToken(user, access),
      signRefreshToken(user, refresh),
    ])
    return { accessToken, refreshToken }
  }

  const routes: Record<string, { method: string; handle: (request: Request) => Promise<Response> }> = {
    verify: {
      method: 'POST',
      handle: async (request) => {
        const read = await readJsonBody(request)
        if (!read.ok) return read.response
        const token = read.body.token
        if (typeof token !== 'string' || token === '') return json(400, { error: 'Token required' })
        try {
          const verified = await verifier.verify(token, 'access')
          // Seconds, as in the reference (`exp`), not the ms of Principal.expiresAt.
          const expiresAt = verified.expiresAt !== undefined ? verified.expiresAt / 1000 : null
          return json(200, { valid: true, userId: verified.userId, expiresAt })
        } catch {
          return json(200, { valid: false })
        }
      },
    },
    refresh: {
      method: 'POST',
      handle: async (request) => {
        const read = await readJsonBody(request)
        if (!read.ok) return read.response
        const token = read.body.refreshToken
        if (typeof token !== 'string' || token === '') return json(400, { error: 'Refresh token required' })
        let verified: VerifiedToken
        try {
          verified = await verifier.verify(token, 'refresh')
        } catch {
          return refused()
        }
        const user = options.refreshUser
          ? await options.refreshUser(verified.userId, verified)
          : { userId: verified.userId, email: verified.email, permissions: verified.permissions }
        if (!user) return refused()
        return json(200, await issue(checkedUser(user, 'refreshUser')))
      },
    },
    me: {
      method: 'GET',
      handle: async (request) => {
        const header = request.headers.get('authorization')
        if (!header) return json(401, { error: 'Missing Authorization header' })
        const token = /^Bearer (\S+)$/.exec(header)?.[1]
        if (!token) return json(401, { error: 'Invalid Authorization header format' })
        try {
          const verified = await verifier.verify(token, 'access')
          return json(200, {
            userId: verified.userId,
            email: verified.email,
            permissions: verified.permissions,
          })
        } catch {
          return json(401, { error: 'Invalid or expired token' })
        }
      },
    },
    login: {
      method: 'POST',
      handle: async (request) => {
        const read = await readJsonBody(request)
        if (!read.ok) return read.response
        const { email, password } = read.body
        if (typeof email !== 'string' || email === '' || typeof password !== 'string' || password === '') {
          return json(400, { error: 'Email and password required' })
        }
        // Only (email, password) reach the app; a `permissions` field in the body is ignored.
        const found = await options.login?.(email, password)
        if (!found) return json(401, { error: 'Invalid credentials' })
        const user = checkedUser(found, 'login')
        const tokens = await issue(user)
        return json(200, {
          userId: user.userId,
          email: user.email ?? email,
          ...tokens,
          permissions: user.permissions,
        })
      },
    },
  }

  return async (request) => {
    let pathname: string
    try {
      pathname = new URL(request.url).pathname
    } catch {
      return undefined
    }
    if (!pathname.startsWith(`${base}/`)) return undefined
    const name = pathname.slice(base.length + 1)
    if (!Object.hasOwn(routes, name)) return undefined
    if ((name === 'login' && !options.login) || (name === 'refresh' && !signing)) {
      return json(404, { error: 'Not found' })
    }
    const route = routes[name] as (typeof routes)[string]
    if (request.method !== route.method) {
      return json(405, { error: 'Method not allowed' }, { allow: route.method })
    }
    try {
      return await route.handle(request)
    } catch (error) {
      try {
        options.onError?.(error, name)
      } catch {
        // Logging must not change the answer.
      }
      return json(500, { error: 'Internal server error' })
    }
  }
}

function refused(): Response {
  return json(401, { error: 'Invalid or expired refresh token' })
}

function checkedUser(user: AuthUser, what: string): AuthUser {
  if (typeof user.userId !== 'string' || user.userId === '') throw new TypeError(`${what}: userId required`)
  const email = typeof user.email === 'string' && user.email !== '' ? user.email : undefined
  return {
    userId: user.userId,
    ...(email !== undefined ? { email } : {}),
    permissions: assertPermissions(user.permissions, what),
  }
}
