import { describe, expect, it, vi } from 'vitest'
import {
  type AuthUser,
  createAuthRoutes,
  signAccessToken,
  signRefreshToken,
  verifyRefreshToken,
  verifyToken,
} from '../../src/auth/index.js'

const SECRET = 'a-test-secret-that-is-at-least-32-chars'
const OTHER = 'another-secret-that-is-at-least-32-chars'
const PERMS = { canRead: ['doc-*'], canWrite: ['doc-1'], isAdmin: false }
const verifier = { secret: SECRET }
const signing = { secret: SECRET }
const ALICE: AuthUser = { userId: 'alice', email: 'alice@example.com', permissions: PERMS }

const login = vi.fn(async (email: string, password: string) =>
  email === 'alice@example.com' && password === 'correct horse' ? ALICE : null,
)
const handler = createAuthRoutes({ verifier, signing, login })

function post(path: string, body: unknown, raw = false): Request {
  return new Request(`http://localhost${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: raw ? (body as string) : JSON.stringify(body),
  })
}

async function call(
  h: typeof handler,
  request: Request,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await h(request)
  if (!response) throw new Error('not handled')
  expect(response.headers.get('content-type')).toContain('application/json')
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

describe('POST /auth/verify', () => {
  it('answers valid with userId and exp in seconds', async () => {
    const token = await signAccessToken({ userId: 'alice', permissions: PERMS }, signing)
    const exp = (await verifyToken(token, verifier)).claims.exp
    const { status, body } = await call(handler, post('/auth/verify', { token }))
    expect(status).toBe(200)
    expect(body).toEqual({ valid: true, userId: 'alice', expiresAt: exp })
  })

  it('answers valid:false (200) for bad, expired, foreign and refresh tokens', async () => {
    const tokens = [
      'garbage',
      await signAccessToken({ userId: 'a', permissions: PERMS }, { secret: SECRET, expiresIn: -10 }),
      await signAccessToken({ userId: 'a', permissions: PERMS }, { secret: OTHER }),
      await signRefreshToken({ userId: 'a', permissions: PERMS }, signing),
    ]
    for (const token of tokens) {
      expect(await call(handler, post('/auth/verify', { token }))).toEqual({
        status: 200,
        body: { valid: false },
      })
    }
  })

  it('400 Token required', async () => {
    for (const body of [{}, { token: '' }, { token: 42 }, [], null]) {
      expect(await call(handler, post('/auth/verify', body))).toEqual({
        status: 400,
        body: { error: 'Token required' },
      })
    }
  })
})

describe('POST /auth/refresh', () => {
  it('issues a new pair whose access token keeps the permissions', async () => {
    const refreshToken = await signRefreshToken(
      { userId: 'alice', email: 'alice@example.com', permissions: PERMS },
      signing,
    )
    const { status, body } = await call(handler, post('/auth/refresh', { refreshToken }))
    expect(status).toBe(200)
    expect(Object.keys(body).sort()).toEqual(['accessToken', 'refreshToken'])
    const access = await verifyToken(body.accessToken as string, verifier)
    expect(access).toMatchObject({ userId: 'alice', email: 'alice@example.com', permissions: PERMS })
    const refresh = await verifyRefreshToken(body.refreshToken as string, verifier)
    expect(refresh.permissions).toEqual(PERMS)
    const refreshExp = refresh.claims.exp as number
    const accessExp = access.claims.exp as number
    expect(refreshExp - accessExp).toBeGreaterThan(5 * 86_400)
  })

  it('re-reads the grant with refreshUser when given', async () => {
    const refreshUser = vi.fn(async (userId: string) =>
      userId === 'alice' ? { userId, permissions: { canRead: ['x'], canWrite: [], isAdmin: false } } : null,
    )
    const h = createAuthRoutes({ verifier, signing, refreshUser })
    const good = await signRefreshToken({ userId: 'alice', permissions: PERMS }, signing)
    const { body } = await call(h, post('/auth/refresh', { refreshToken: good }))
    expect((await verifyToken(body.accessToken as string, verifier)).permissions.canRead).toEqual(['x'])
    const revoked = await signRefreshToken({ userId: 'mallory', permissions: PERMS }, signing)
    expect(await call(h, post('/auth/refresh', { refreshToken: revoked }))).toEqual({
      status: 401,
      body: { error: 'Invalid or expired refresh token' },
    })
  })

  it('400 Refresh token required', async () => {
    expect(await call(handler, post('/auth/refresh', {}))).toEqual({
      status: 400,
      body: { error: 'Refresh token required' },
    })
  })

  it('401 for an access token, an expired, a forged or a garbage refresh token', async () => {
    const tokens = [
      await signAccessToken({ userId: 'a', permissions: PERMS }, signing),
      await signRefreshToken({ userId: 'a' }, { secret: SECRET, expiresIn: -10 }),
      await signRefreshToken({ userId: 'a' }, { secret: OTHER }),
      'garbage',
    ]
    for (const refreshToken of tokens) {
      expect(await call(handler, post('/auth/refresh', { refreshToken }))).toEqual({
        status: 401,
        body: { error: 'Invalid or expired refresh token' },
      })
    }
  })

  it('404 without signing options', async () => {
    const verifyOnly = createAuthRoutes({ verifier })
    expect((await call(verifyOnly, post('/auth/refresh', { refreshToken: 'x' }))).status).toBe(404)
  })
})

describe('GET /auth/me', () => {
  const me = (authorization?: string) =>
    new Request('http://localhost/auth/me', authorization ? { headers: { authorization } } : {})

  it('returns the token user', async () => {
    const token = await signAccessToken(ALICE, signing)
    expect(await call(handler, me(`Bearer ${token}`))).toEqual({
      status: 200,
      body: { userId: 'alice', email: 'alice@example.com', permissions: PERMS },
    })
  })

  it('401 with the reference messages', async () => {
    const token = await signAccessToken(ALICE, signing)
    const refresh = await signRefreshToken(ALICE, signing)
    expect(await call(handler, me())).toEqual({
      status: 401,
      body: { error: 'Missing Authorization header' },
    })
    for (const header of [token, `Basic ${token}`, `Bearer`, `Bearer  `]) {
      expect(await call(handler, me(header))).toEqual({
        status: 401,
        body: { error: 'Invalid Authorization header format' },
      })
    }
    for (const header of ['Bearer garbage', `Bearer ${refresh}`]) {
      expect(await call(handler, me(header))).toEqual({
        status: 401,
        body: { error: 'Invalid or expired token' },
      })
    }
  })
})

describe('POST /auth/login', () => {
  it('logs in with the permissions the app decides', async () => {
    const { status, body } = await call(
      handler,
      post('/auth/login', {
        email: 'alice@example.com',
        password: 'correct horse',
        permissions: { canRead: ['*'], canWrite: ['*'], isAdmin: true },
      }),
    )
    expect(status).toBe(200)
    expect(body).toMatchObject({ userId: 'alice', email: 'alice@example.com', permissions: PERMS })
    expect(login).toHaveBeenLastCalledWith('alice@example.com', 'correct horse')
    const access = await verifyToken(body.accessToken as string, verifier)
    expect(access.permissions).toEqual(PERMS)
    expect((await verifyRefreshToken(body.refreshToken as string, verifier)).userId).toBe('alice')
  })

  it('400 Email and password required', async () => {
    for (const body of [
      {},
      { email: 'a@b' },
      { password: 'x' },
      { email: '', password: 'x' },
      { email: 1, password: 2 },
    ]) {
      expect(await call(handler, post('/auth/login', body))).toEqual({
        status: 400,
        body: { error: 'Email and password required' },
      })
    }
  })

  it('401 Invalid credentials', async () => {
    expect(
      await call(handler, post('/auth/login', { email: 'alice@example.com', password: 'wrong' })),
    ).toEqual({
      status: 401,
      body: { error: 'Invalid credentials' },
    })
  })

  it('400 on malformed JSON, never 500', async () => {
    for (const raw of ['{"email":', 'not json', '']) {
      expect(await call(handler, post('/auth/login', raw, true))).toEqual({
        status: 400,
        body: { error: 'Invalid JSON body' },
      })
    }
    expect((await call(handler, post('/auth/verify', '{', true))).status).toBe(400)
    expect((await call(handler, post('/auth/refresh', '{', true))).status).toBe(400)
  })

  it('404 when the app supplies no login', async () => {
    const h = createAuthRoutes({ verifier, signing })
    expect(await call(h, post('/auth/login', { email: 'a@b', password: 'x' }))).toEqual({
      status: 404,
      body: { error: 'Not found' },
    })
  })

  it('500 without details when the login callback throws', async () => {
    const onError = vi.fn()
    const h = createAuthRoutes({
      verifier,
      signing,
      login: async () => {
        throw new Error('db down')
      },
      onError,
    })
    expect(await call(h, post('/auth/login', { email: 'a@b', password: 'x' }))).toEqual({
      status: 500,
      body: { error: 'Internal server error' },
    })
    expect(onError).toHaveBeenCalledWith(expect.any(Error), 'login')
  })

  it('refuses login without signing at construction', () => {
    expect(() => createAuthRoutes({ verifier, login })).toThrow(/signing/)
    expect(() => createAuthRoutes({ verifier, signing: { secret: 'short' } })).toThrow(/32/)
  })
})

describe('routing', () => {
  it('ignores non-auth paths', async () => {
    expect(await handler(new Request('http://localhost/health'))).toBeUndefined()
    expect(await handler(new Request('http://localhost/auth'))).toBeUndefined()
    expect(await handler(new Request('http://localhost/auth/unknown'))).toBeUndefined()
    expect(await handler(new Request('http://localhost/auth/constructor'))).toBeUndefined()
    expect(await handler(new Request('http://localhost/authx/verify', { method: 'POST' }))).toBeUndefined()
  })

  it('405 on the wrong method', async () => {
    const response = await handler(new Request('http://localhost/auth/verify'))
    expect(response?.status).toBe(405)
    expect(response?.headers.get('allow')).toBe('POST')
  })

  it('413 on an oversized body', async () => {
    const response = await handler(post('/auth/verify', { token: 'x'.repeat(100_000) }))
    expect(response?.status).toBe(413)
  })

  it('honours basePath and marks responses no-store', async () => {
    const h = createAuthRoutes({ verifier, basePath: '/api/auth/' })
    const token = await signAccessToken(ALICE, signing)
    const response = await h(post('/api/auth/verify', { token }))
    expect(response?.status).toBe(200)
    expect(response?.headers.get('cache-control')).toBe('no-store')
    expect(await h(post('/auth/verify', { token }))).toBeUndefined()
  })
})
