import { base64url, exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import {
  AuthConfigError,
  AuthError,
  type AuthErrorCode,
  createTokenVerifier,
  principalFromToken,
  signAccessToken,
  signRefreshToken,
  verifyRefreshToken,
  verifyToken,
} from '../../src/auth/index.js'
import type { Permissions } from '../../src/protocol/types.js'

const SECRET = 'a-test-secret-that-is-at-least-32-chars'
const OTHER_SECRET = 'another-secret-that-is-at-least-32-chars'
const PERMS: Permissions = { canRead: ['doc-*'], canWrite: ['doc-1'], isAdmin: false }
const enc = new TextEncoder()

async function expectCode(promise: Promise<unknown>, code: AuthErrorCode): Promise<AuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(AuthError)
  expect((error as AuthError).code).toBe(code)
  return error as AuthError
}

function unsignedToken(payload: object): string {
  const part = (value: object) => base64url.encode(JSON.stringify(value))
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`
}

const nowSec = () => Math.floor(Date.now() / 1000)

describe('HMAC tokens', () => {
  for (const algorithm of ['HS256', 'HS384', 'HS512'] as const) {
    it(`signs and verifies ${algorithm}`, async () => {
      const token = await signAccessToken(
        { userId: 'u1', email: 'u1@example.com', permissions: PERMS },
        { secret: SECRET, algorithm },
      )
      const verified = await verifyToken(token, { secret: SECRET })
      expect(verified.kind).toBe('access')
      expect(verified.userId).toBe('u1')
      expect(verified.email).toBe('u1@example.com')
      expect(verified.permissions).toEqual(PERMS)
      expect(verified.claims.sub).toBe('u1')
      expect(verified.claims.type).toBe('access')
    })
  }

  it('defaults to a 24h lifetime and maps exp to Principal.expiresAt in ms', async () => {
    const before = nowSec()
    const token = await signAccessToken({ userId: 'u1', permissions: PERMS }, { secret: SECRET })
    const verified = await verifyToken(token, { secret: SECRET })
    const exp = verified.claims.exp as number
    expect(exp - before).toBeGreaterThanOrEqual(24 * 3600 - 1)
    expect(exp - before).toBeLessThanOrEqual(24 * 3600 + 1)
    const principal = principalFromToken(verified)
    expect(principal).toEqual({ userId: 'u1', permissions: PERMS, expiresAt: exp * 1000, via: 'token' })
  })

  it('respects expiresIn as seconds from now', async () => {
    const token = await signAccessToken(
      { userId: 'u1', permissions: PERMS },
      { secret: SECRET, expiresIn: 60 },
    )
    const verified = await verifyToken(token, { secret: SECRET })
    expect((verified.claims.exp as number) - nowSec()).toBeLessThanOrEqual(60)
    expect((verified.claims.exp as number) - nowSec()).toBeGreaterThanOrEqual(58)
  })

  it('refuses an HS256 secret shorter than 32 characters, at construction', () => {
    expect(() => createTokenVerifier({ secret: 'short-secret' })).toThrow(AuthConfigError)
    expect(() => createTokenVerifier({ secret: new Uint8Array(16) })).toThrow(/at least 32/)
    expect(() => createTokenVerifier({ secret: 'x'.repeat(32) })).not.toThrow()
  })

  it('refuses to sign with a short secret', async () => {
    await expect(signAccessToken({ userId: 'u', permissions: PERMS }, { secret: 'short' })).rejects.toThrow(
      /at least 32/,
    )
  })

  it('rejects configurations that cannot work', () => {
    expect(() => createTokenVerifier({})).toThrow(AuthConfigError)
    expect(() => createTokenVerifier({ secret: SECRET, algorithms: ['none'] })).toThrow(/unsupported/)
    expect(() => createTokenVerifier({ secret: SECRET, algorithms: ['RS256'] })).toThrow(/publicKey/)
    expect(() => createTokenVerifier({ secret: SECRET, algorithms: [] })).toThrow(/empty/)
    expect(() => createTokenVerifier({ secret: SECRET, clockToleranceSec: -1 })).toThrow(/clockTolerance/)
    expect(() => createTokenVerifier({ publicKey: 'not a pem' })).toThrow(/PEM/)
    expect(() => createTokenVerifier({ jwksUrl: 'http://idp.example.com/jwks' })).toThrow(/https/)
    expect(() => createTokenVerifier({ jwksUrl: 'https://idp.example.com/jwks', publicKey: 'x' })).toThrow(
      /both/,
    )
  })
})

describe('asymmetric tokens', () => {
  for (const algorithm of ['RS256', 'ES256', 'EdDSA'] as const) {
    it(`signs and verifies ${algorithm} with a key object and with PEM`, async () => {
      const { privateKey, publicKey } = await generateKeyPair(algorithm, { extractable: true })
      const token = await signAccessToken(
        { userId: 'u2', permissions: PERMS },
        { secret: privateKey, algorithm },
      )
      expect((await verifyToken(token, { publicKey })).userId).toBe('u2')
      const pem = await exportSPKI(publicKey)
      expect((await verifyToken(token, { publicKey: pem })).permissions).toEqual(PERMS)
      const jwk = await exportJWK(publicKey)
      expect((await verifyToken(token, { publicKey: jwk })).userId).toBe('u2')
    })
  }

  it('infers the algorithm from a CryptoKey', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256')
    const token = await signAccessToken({ userId: 'u', permissions: PERMS }, { secret: privateKey })
    expect((await verifyToken(token, { publicKey })).userId).toBe('u')
  })

  it('refuses a private or secret key as the verification key', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true })
    expect(() => createTokenVerifier({ publicKey: privateKey })).toThrow(/public key/)
    const privateJwk = await exportJWK(privateKey)
    expect(() => createTokenVerifier({ publicKey: privateJwk })).toThrow(/public key/)
    expect(() => createTokenVerifier({ publicKey: { kty: 'oct', k: 'abc' } })).toThrow(/public key/)
  })

  it('fails a token signed by another key pair', async () => {
    const a = await generateKeyPair('RS256')
    const b = await generateKeyPair('RS256')
    const token = await signAccessToken({ userId: 'u', permissions: PERMS }, { secret: a.privateKey })
    await expectCode(verifyToken(token, { publicKey: b.publicKey }), 'TOKEN_INVALID')
  })
})

describe('hostile tokens', () => {
  it('rejects a forged signature and a tampered payload', async () => {
    const forged = await signAccessToken({ userId: 'u', permissions: PERMS }, { secret: OTHER_SECRET })
    await expectCode(verifyToken(forged, { secret: SECRET }), 'TOKEN_INVALID')

    const token = await signAccessToken({ userId: 'u', permissions: PERMS }, { secret: SECRET })
    const [header, , signature] = token.split('.')
    const admin = base64url.encode(
      JSON.stringify({
        userId: 'u',
        permissions: { canRead: [], canWrite: [], isAdmin: true },
        exp: nowSec() + 60,
      }),
    )
    await expectCode(verifyToken(`${header}.${admin}.${signature}`, { secret: SECRET }), 'TOKEN_INVALID')
  })

  it('rejects garbage, empty and oversized input', async () => {
    const verifier = createTokenVerifier({ secret: SECRET })
    await expectCode(verifier.verify('not-a-jwt'), 'TOKEN_INVALID')
    await expectCode(verifier.verify(''), 'TOKEN_INVALID')
    await expectCode(verifier.verify('a'.repeat(20_000)), 'TOKEN_INVALID')
    await expectCode(verifier.verify(42 as unknown as string), 'TOKEN_INVALID')
  })

  it('never accepts alg none', async () => {
    const token = unsignedToken({ userId: 'u', permissions: PERMS, exp: nowSec() + 60 })
    await expectCode(verifyToken(token, { secret: SECRET }), 'TOKEN_ALGORITHM_NOT_ALLOWED')
    const { publicKey } = await generateKeyPair('RS256')
    await expectCode(verifyToken(token, { publicKey }), 'TOKEN_ALGORITHM_NOT_ALLOWED')
  })

  it('rejects an HS token at an RS verifier and an RS token at an HS verifier', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256')
    const hs = await signAccessToken({ userId: 'u', permissions: PERMS }, { secret: SECRET })
    await expectCode(verifyToken(hs, { publicKey }), 'TOKEN_ALGORITHM_NOT_ALLOWED')
    const rs = await signAccessToken(
      { userId: 'u', permissions: PERMS },
      { secret: privateKey, algorithm: 'RS256' },
    )
    await expectCode(verifyToken(rs, { secret: SECRET }), 'TOKEN_ALGORITHM_NOT_ALLOWED')
  })

  it('enforces an explicit allow-list', async () => {
    const hs512 = await signAccessToken(
      { userId: 'u', permissions: PERMS },
      { secret: SECRET, algorithm: 'HS512' },
    )
    await expectCode(
      verifyToken(hs512, { secret: SECRET, algorithms: ['HS256'] }),
      'TOKEN_ALGORITHM_NOT_ALLOWED',
    )
  })

  it('defeats alg confusion (public key PEM used as an HMAC secret)', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true })
    const pem = await exportSPKI(publicKey)
    const evil = await new SignJWT({
      userId: 'attacker',
      permissions: { canRead: [], canWrite: [], isAdmin: true },
    })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(enc.encode(pem))
    await expectCode(verifyToken(evil, { publicKey: pem }), 'TOKEN_ALGORITHM_NOT_ALLOWED')
    // Even with HMAC enabled alongside the key, HS* only ever gets the configured secret.
    await expectCode(verifyToken(evil, { publicKey: pem, secret: SECRET }), 'TOKEN_INVALID')
    const good = await signAccessToken(
      { userId: 'u', permissions: PERMS },
      { secret: privateKey, algorithm: 'RS256' },
    )
    expect((await verifyToken(good, { publicKey: pem, secret: SECRET })).userId).toBe('u')
  })
})

describe('lifetime', () => {
  it('reports an expired token as TOKEN_EXPIRED', async () => {
    const token = await signAccessToken(
      { userId: 'u', permissions: PERMS },
      { secret: SECRET, expiresIn: -5 },
    )
    await expectCode(verifyToken(token, { secret: SECRET }), 'TOKEN_EXPIRED')
  })

  it('applies the clock tolerance', async () => {
    const token = await signAccessToken(
      { userId: 'u', permissions: PERMS },
      { secret: SECRET, expiresIn: -5 },
    )
    const tolerated = await verifyToken(token, { secret: SECRET, clockToleranceSec: 30 })
    expect(tolerated.userId).toBe('u')
    // The engine must not cut off at once a token the verifier just accepted within tolerance.
    expect(tolerated.validUntil).toBe((tolerated.expiresAt as number) + 30_000)
    expect(principalFromToken(tolerated).expiresAt).toBe(tolerated.validUntil)
    expect(principalFromToken(tolerated).expiresAt).toBeGreaterThan(Date.now())
    await expectCode(verifyToken(token, { secret: SECRET, clockToleranceSec: 1 }), 'TOKEN_EXPIRED')
  })

  it('rejects a token that is not yet valid', async () => {
    const token = await new SignJWT({ userId: 'u' })
      .setProtectedHeader({ alg: 'HS256' })
      .setNotBefore(nowSec() + 60)
      .setExpirationTime('1h')
      .sign(enc.encode(SECRET))
    await expectCode(verifyToken(token, { secret: SECRET }), 'TOKEN_NOT_YET_VALID')
  })

  it('requires exp unless told otherwise', async () => {
    const token = await new SignJWT({ userId: 'u' })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(enc.encode(SECRET))
    await expectCode(verifyToken(token, { secret: SECRET }), 'TOKEN_MISSING_EXPIRY')
    const verified = await verifyToken(token, { secret: SECRET, requireExpiry: false })
    expect(verified.expiresAt).toBeUndefined()
    expect(principalFromToken(verified).expiresAt).toBeUndefined()
  })
})

describe('claims', () => {
  const raw = (payload: Record<string, unknown>) =>
    new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(enc.encode(SECRET))

  it('reads a C#-style token (sub only, permissions object)', async () => {
    const token = await raw({ sub: 'csharp-user', email: 'c@x', permissions: PERMS })
    const verified = await verifyToken(token, { secret: SECRET })
    expect(verified.userId).toBe('csharp-user')
    expect(verified.permissions).toEqual(PERMS)
  })

  it('reads a TS-style token (userId only)', async () => {
    const token = await raw({ userId: 'ts-user', email: 't@x', permissions: PERMS })
    expect((await verifyToken(token, { secret: SECRET })).userId).toBe('ts-user')
  })

  it('accepts a permissions claim serialised as a JSON string', async () => {
    const token = await raw({ sub: 'u', permissions: JSON.stringify(PERMS) })
    expect((await verifyToken(token, { secret: SECRET })).permissions).toEqual(PERMS)
  })

  it('gives no permissions when the claim is missing', async () => {
    const token = await raw({ sub: 'u' })
    expect((await verifyToken(token, { secret: SECRET })).permissions).toEqual({
      canRead: [],
      canWrite: [],
      isAdmin: false,
    })
  })

  it('refuses a malformed permissions claim', async () => {
    await expectCode(
      verifyToken(await raw({ sub: 'u', permissions: { canRead: '*' } }), { secret: SECRET }),
      'TOKEN_INVALID_PERMISSIONS',
    )
    await expectCode(
      verifyToken(await raw({ sub: 'u', permissions: { isAdmin: 'true' } }), { secret: SECRET }),
      'TOKEN_INVALID_PERMISSIONS',
    )
    await expectCode(
      verifyToken(await raw({ sub: 'u', permissions: ['*'] }), { secret: SECRET }),
      'TOKEN_INVALID_PERMISSIONS',
    )
  })

  it('refuses a token without a subject', async () => {
    await expectCode(verifyToken(await raw({ email: 'x' }), { secret: SECRET }), 'TOKEN_MISSING_SUBJECT')
    await expectCode(verifyToken(await raw({ userId: '' }), { secret: SECRET }), 'TOKEN_MISSING_SUBJECT')
  })

  it('checks iss and aud when configured', async () => {
    const token = await signAccessToken(
      { userId: 'u', permissions: PERMS },
      { secret: SECRET, issuer: 'https://issuer.example', audience: 'synckit' },
    )
    const base = { secret: SECRET }
    expect(
      (await verifyToken(token, { ...base, issuer: 'https://issuer.example', audience: 'synckit' })).userId,
    ).toBe('u')
    await expectCode(verifyToken(token, { ...base, issuer: 'https://evil.example' }), 'TOKEN_CLAIM_MISMATCH')
    await expectCode(verifyToken(token, { ...base, audience: 'other-app' }), 'TOKEN_CLAIM_MISMATCH')
    expect((await verifyToken(token, { ...base, audience: ['other-app', 'synckit'] })).userId).toBe('u')
    const bare = await signAccessToken({ userId: 'u', permissions: PERMS }, { secret: SECRET })
    await expectCode(verifyToken(bare, { ...base, issuer: 'https://issuer.example' }), 'TOKEN_CLAIM_MISMATCH')
  })
})

describe('refresh tokens', () => {
  it('are refused as access tokens, and access tokens as refresh tokens', async () => {
    const refresh = await signRefreshToken({ userId: 'u', permissions: PERMS }, { secret: SECRET })
    await expectCode(verifyToken(refresh, { secret: SECRET }), 'TOKEN_REFRESH_NOT_ACCESS')
    const verified = await verifyRefreshToken(refresh, { secret: SECRET })
    expect(verified.kind).toBe('refresh')
    expect(verified.permissions).toEqual(PERMS)
    const access = await signAccessToken({ userId: 'u', permissions: PERMS }, { secret: SECRET })
    await expectCode(verifyRefreshToken(access, { secret: SECRET }), 'TOKEN_ACCESS_NOT_REFRESH')
  })

  it('default to 7 days', async () => {
    const refresh = await signRefreshToken({ userId: 'u' }, { secret: SECRET })
    const exp = (await verifyRefreshToken(refresh, { secret: SECRET })).claims.exp as number
    expect(Math.abs(exp - nowSec() - 7 * 86_400)).toBeLessThanOrEqual(2)
  })

  it('recognise typ markers from other issuers', async () => {
    const key = enc.encode(SECRET)
    const byClaim = await new SignJWT({ sub: 'u', typ: 'refresh' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(key)
    await expectCode(verifyToken(byClaim, { secret: SECRET }), 'TOKEN_REFRESH_NOT_ACCESS')
    const byHeader = await new SignJWT({ sub: 'u' })
      .setProtectedHeader({ alg: 'HS256', typ: 'refresh+jwt' })
      .setExpirationTime('1h')
      .sign(key)
    await expectCode(verifyToken(byHeader, { secret: SECRET }), 'TOKEN_REFRESH_NOT_ACCESS')
  })
})
