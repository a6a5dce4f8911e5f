import { exportSPKI, generateKeyPair } from 'jose'
import { describe, expect, it, vi } from 'vitest'
import {
  AuthConfigError,
  type AuthError,
  authConfigFromEnv,
  createAuthenticator,
  credentialsFromRequest,
  signAccessToken,
  signRefreshToken,
} from '../../src/auth/index.js'

const SECRET = 'a-test-secret-that-is-at-least-32-chars'
const PERMS = { canRead: ['doc-*'], canWrite: ['doc-1'], isAdmin: false }
const API_KEY = 'sk_live_0123456789abcdef'

describe('credentialsFromRequest', () => {
  it('reads a Bearer token from a Node-style header record (any case)', () => {
    expect(credentialsFromRequest({ headers: { authorization: 'Bearer abc.def.ghi' } })).toEqual({
      token: 'abc.def.ghi',
    })
    expect(credentialsFromRequest({ headers: { Authorization: ['bearer t1', 'Bearer t2'] } })).toEqual({
      token: 't1',
    })
  })

  it('reads a Bearer token from a Headers object', () => {
    expect(credentialsFromRequest({ headers: new Headers({ Authorization: 'Bearer xyz' }) })).toEqual({
      token: 'xyz',
    })
  })

  it('reads ?token= when there is no header, and the header wins over the query', () => {
    expect(credentialsFromRequest({ url: '/ws?room=1&token=q.t.k' })).toEqual({ token: 'q.t.k' })
    expect(
      credentialsFromRequest({ url: '/ws?token=query', headers: { authorization: 'Bearer header' } }),
    ).toEqual({
      token: 'header',
    })
  })

  it('reads X-API-Key but not an API key in the query string', () => {
    expect(credentialsFromRequest({ headers: { 'x-api-key': API_KEY } })).toEqual({ apiKey: API_KEY })
    expect(credentialsFromRequest({ url: `/ws?apiKey=${API_KEY}` })).toEqual({})
  })

  it('finds nothing in an empty, cookie-only or malformed request', () => {
    expect(credentialsFromRequest({})).toEqual({})
    expect(credentialsFromRequest({ url: '/ws', headers: { cookie: 'token=abc' } })).toEqual({})
    expect(credentialsFromRequest({ headers: { authorization: 'Basic dXNlcjpwYXNz' } })).toEqual({})
    expect(credentialsFromRequest({ headers: { authorization: 'Bearer' } })).toEqual({})
    expect(credentialsFromRequest({ url: '/ws?token=' })).toEqual({})
  })
})

describe('createAuthenticator', () => {
  const config = () => {
    const onError = vi.fn<(error: AuthError, failure: { method: string }) => void>()
    const authenticate = createAuthenticator({
      jwt: { secret: SECRET },
      apiKeys: [{ key: API_KEY, userId: 'service', permissions: PERMS }],
      onError,
    })
    return { authenticate, onError }
  }

  it('authenticates a token with expiresAt from exp', async () => {
    const { authenticate } = config()
    const token = await signAccessToken(
      { userId: 'alice', permissions: PERMS },
      { secret: SECRET, expiresIn: 60 },
    )
    const principal = await authenticate({ token }, {})
    expect(principal?.userId).toBe('alice')
    expect(principal?.permissions).toEqual(PERMS)
    expect(principal?.via).toBe('token')
    expect(principal?.expiresAt).toBeGreaterThan(Date.now() + 55_000)
    expect(principal?.expiresAt).toBeLessThanOrEqual(Date.now() + 60_000)
  })

  it('authenticates an API key', async () => {
    const { authenticate } = config()
    expect(await authenticate({ apiKey: API_KEY }, {})).toEqual({
      userId: 'service',
      permissions: PERMS,
      via: 'apiKey',
    })
  })

  it('returns null and reports the reason on failure', async () => {
    const { authenticate, onError } = config()
    const refresh = await signRefreshToken({ userId: 'alice', permissions: PERMS }, { secret: SECRET })
    expect(await authenticate({ token: refresh }, {})).toBeNull()
    expect(onError.mock.calls[0]?.[0].code).toBe('TOKEN_REFRESH_NOT_ACCESS')
    expect(onError.mock.calls[0]?.[1].method).toBe('token')
    expect(await authenticate({ apiKey: 'sk_live_wrong_key_000' }, {})).toBeNull()
    expect(onError.mock.calls[1]?.[0].code).toBe('API_KEY_INVALID')
    expect(await authenticate({}, {})).toBeNull()
    expect(onError.mock.calls[2]?.[0].code).toBe('CREDENTIALS_MISSING')
  })

  it('falls back from a bad token to a good API key', async () => {
    const { authenticate, onError } = config()
    expect((await authenticate({ token: 'garbage', apiKey: API_KEY }, {}))?.userId).toBe('service')
    expect(onError.mock.calls[0]?.[0].code).toBe('TOKEN_INVALID')
  })

  it('takes credentials from the upgrade request when the message has none', async () => {
    const { authenticate } = config()
    const token = await signAccessToken({ userId: 'bob', permissions: PERMS }, { secret: SECRET })
    expect((await authenticate({}, { headers: { authorization: `Bearer ${token}` } }))?.userId).toBe('bob')
    expect((await authenticate({}, { url: `/ws?token=${token}` }))?.userId).toBe('bob')
    expect((await authenticate({}, { headers: { 'x-api-key': API_KEY } }))?.userId).toBe('service')
    // The message's own credentials win over the request's.
    expect((await authenticate({ apiKey: API_KEY }, { url: `/ws?token=${token}` }))?.userId).toBe('service')
  })

  it('can ignore the upgrade request', async () => {
    const token = await signAccessToken({ userId: 'bob', permissions: PERMS }, { secret: SECRET })
    const authenticate = createAuthenticator({ jwt: { secret: SECRET }, credentialsFromRequest: false })
    expect(await authenticate({}, { url: `/ws?token=${token}` })).toBeNull()
  })

  it('refuses credentials of a kind that is not configured', async () => {
    const onError = vi.fn<(error: AuthError) => void>()
    const tokenOnly = createAuthenticator({ jwt: { secret: SECRET }, onError })
    expect(await tokenOnly({ apiKey: API_KEY }, {})).toBeNull()
    expect(onError.mock.calls[0]?.[0].code).toBe('API_KEY_UNSUPPORTED')
    const keysOnly = createAuthenticator({
      apiKeys: [{ key: API_KEY, userId: 's', permissions: PERMS }],
      onError,
    })
    expect(await keysOnly({ token: 'a.b.c' }, {})).toBeNull()
    expect(onError.mock.calls[1]?.[0].code).toBe('TOKEN_UNSUPPORTED')
  })

  it('survives a throwing onError and validates configuration eagerly', async () => {
    const authenticate = createAuthenticator({
      jwt: { secret: SECRET },
      onError: () => {
        throw new Error('logger broke')
      },
    })
    expect(await authenticate({ token: 'x' }, {})).toBeNull()
    expect(() => createAuthenticator({ jwt: { secret: 'too-short' } })).toThrow(AuthConfigError)
  })
})

describe('authConfigFromEnv', () => {
  it('returns nothing when nothing is configured (no default secret)', () => {
    expect(authConfigFromEnv({})).toEqual({})
  })

  it('reads the JWT settings and signing lifetimes', () => {
    const config = authConfigFromEnv({
      JWT_SECRET: SECRET,
      JWT_ISSUER: 'https://issuer.example',
      JWT_AUDIENCE: 'a, b',
      JWT_CLOCK_TOLERANCE: '5',
      JWT_ALGORITHMS: 'HS256,HS512',
      JWT_EXPIRES_IN: '15m',
      JWT_REFRESH_EXPIRES_IN: '3600',
    })
    expect(config.jwt).toEqual({
      secret: SECRET,
      issuer: 'https://issuer.example',
      audience: ['a', 'b'],
      clockToleranceSec: 5,
      algorithms: ['HS256', 'HS512'],
    })
    expect(config.signing).toEqual({
      secret: SECRET,
      expiresIn: '15m',
      refreshExpiresIn: 3600,
      issuer: 'https://issuer.example',
      audience: ['a', 'b'],
    })
  })

  it('reads a PEM public key with escaped newlines', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true })
    const pem = (await exportSPKI(publicKey)).replace(/\n/g, '\\n')
    const config = authConfigFromEnv({ JWT_PUBLIC_KEY: pem })
    expect(config.signing).toBeUndefined()
    const token = await signAccessToken(
      { userId: 'u', permissions: PERMS },
      { secret: privateKey, algorithm: 'RS256' },
    )
    expect((await createAuthenticator(config)({ token }, {}))?.userId).toBe('u')
  })

  it('reads JWKS and API keys', () => {
    const config = authConfigFromEnv({
      JWT_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json',
      SYNCKIT_AUTH_APIKEYS: `svc:${API_KEY}=*/`,
    })
    expect(config.jwt).toEqual({ jwksUrl: 'https://idp.example.com/.well-known/jwks.json' })
    expect(config.apiKeys).toEqual([
      { key: API_KEY, userId: 'api-key:svc', permissions: { canRead: ['*'], canWrite: [], isAdmin: false } },
    ])
  })

  it('names the variable at fault', () => {
    const settingOf = (env: Record<string, string>) => {
      try {
        authConfigFromEnv(env)
      } catch (error) {
        return error instanceof AuthConfigError ? error.setting : 'not an AuthConfigError'
      }
      return undefined
    }
    expect(settingOf({ JWT_SECRET: 'short' })).toBe('JWT_SECRET')
    expect(settingOf({ JWT_PUBLIC_KEY: 'nope' })).toBe('JWT_PUBLIC_KEY')
    expect(settingOf({ JWT_JWKS_URL: 'not a url' })).toBe('JWT_JWKS_URL')
    expect(settingOf({ JWT_JWKS_URL: 'http://idp.example.com/jwks' })).toBe('JWT_JWKS_URL')
    expect(settingOf({ JWT_SECRET: SECRET, JWT_ALGORITHMS: 'none' })).toBe('JWT_ALGORITHMS')
    expect(settingOf({ JWT_SECRET: SECRET, JWT_ALGORITHMS: 'RS256' })).toBe('JWT_ALGORITHMS')
    expect(settingOf({ JWT_SECRET: SECRET, JWT_CLOCK_TOLERANCE: 'soon' })).toBe('JWT_CLOCK_TOLERANCE')
    expect(settingOf({ JWT_SECRET: SECRET, JWT_EXPIRES_IN: 'forever' })).toBe('JWT_EXPIRES_IN')
    expect(settingOf({ JWT_SECRET: SECRET, JWT_REFRESH_EXPIRES_IN: '7 fortnights' })).toBe(
      'JWT_REFRESH_EXPIRES_IN',
    )
    expect(settingOf({ SYNCKIT_AUTH_APIKEYS: 'short' })).toBe('SYNCKIT_AUTH_APIKEYS')
  })

  it('produces a config the authenticator accepts end to end', async () => {
    const config = authConfigFromEnv({ JWT_SECRET: SECRET, SYNCKIT_AUTH_APIKEYS: API_KEY })
    const authenticate = createAuthenticator(config)
    const token = await signAccessToken({ userId: 'env-user', permissions: PERMS }, config.signing!)
    expect((await authenticate({ token }, {}))?.userId).toBe('env-user')
    expect((await authenticate({ apiKey: API_KEY }, {}))?.userId).toBe('api-key:1')
  })
})
