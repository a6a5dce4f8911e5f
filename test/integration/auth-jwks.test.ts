import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type CryptoKey, exportJWK, generateKeyPair, type JWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AuthError, type AuthErrorCode, createTokenVerifier, signAccessToken } from '../../src/auth/index.js'

const PERMS = { canRead: ['*'], canWrite: [], isAdmin: false }

interface KeyEntry {
  kid: string
  privateKey: CryptoKey
  jwk: JWK
}

async function makeKey(kid: string, alg: 'RS256' | 'ES256' | 'EdDSA' = 'RS256'): Promise<KeyEntry> {
  const { privateKey, publicKey } = await generateKeyPair(alg)
  const exported = await exportJWK(publicKey)
  return { kid, privateKey, jwk: { ...exported, kid, alg, use: 'sig' } }
}

/** A tiny identity provider: serves `keys` as a JWKS and counts fetches. */
let server: Server
let jwksUrl: string
let keys: KeyEntry[] = []
let fetches = 0
let failNext = false

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end()
      return
    }
    fetches++
    if (failNext) {
      failNext = false
      res.writeHead(500).end()
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ keys: keys.map((k) => k.jwk) }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`
})

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

function sign(key: KeyEntry, userId = 'idp-user') {
  return signAccessToken(
    { userId, permissions: PERMS },
    { secret: key.privateKey, algorithm: key.jwk.alg as 'RS256', keyId: key.kid, expiresIn: '5m' },
  )
}

async function codeOf(promise: Promise<unknown>): Promise<AuthErrorCode | undefined> {
  return promise.then(
    () => undefined,
    (error: unknown) => (error instanceof AuthError ? error.code : undefined),
  )
}

describe('JWKS', () => {
  it('verifies RS256, ES256 and EdDSA keys from the set and caches it', async () => {
    const rsa = await makeKey('rsa-1')
    const ec = await makeKey('ec-1', 'ES256')
    const ed = await makeKey('ed-1', 'EdDSA')
    keys = [rsa, ec, ed]
    fetches = 0
    const verifier = createTokenVerifier({ jwksUrl, jwks: { timeoutMs: 2_000 } })
    for (const key of [rsa, ec, ed, rsa, ec, ed]) {
      expect((await verifier.verify(await sign(key, key.kid))).userId).toBe(key.kid)
    }
    expect(fetches).toBe(1)
  })

  it('refetches on an unknown kid (rotation) and drops removed keys', async () => {
    const oldKey = await makeKey('old')
    keys = [oldKey]
    fetches = 0
    const verifier = createTokenVerifier({ jwksUrl, jwks: { cooldownMs: 0, timeoutMs: 2_000 } })
    const oldToken = await sign(oldKey)
    expect((await verifier.verify(oldToken)).userId).toBe('idp-user')
    expect(fetches).toBe(1)

    // The provider rotates: the new key replaces the old one.
    const newKey = await makeKey('new')
    keys = [newKey]
    expect((await verifier.verify(await sign(newKey, 'after-rotation'))).userId).toBe('after-rotation')
    expect(fetches).toBe(2)
    expect(await codeOf(verifier.verify(oldToken))).toBe('KEY_NOT_FOUND')
  })

  it('does not refetch within the cooldown', async () => {
    const first = await makeKey('first')
    keys = [first]
    fetches = 0
    const verifier = createTokenVerifier({ jwksUrl, jwks: { cooldownMs: 60_000, timeoutMs: 2_000 } })
    await verifier.verify(await sign(first))
    const second = await makeKey('second')
    keys = [first, second]
    const token = await sign(second)
    expect(await codeOf(verifier.verify(token))).toBe('KEY_NOT_FOUND')
    expect(await codeOf(verifier.verify(token))).toBe('KEY_NOT_FOUND')
    expect(fetches).toBe(1)
  })

  it('rejects a foreign key under a known kid, and an HS token carrying a JWKS kid', async () => {
    const key = await makeKey('k')
    keys = [key]
    const verifier = createTokenVerifier({ jwksUrl, jwks: { cooldownMs: 0, timeoutMs: 2_000 } })
    const stranger = await makeKey('k') // same kid, different key pair
    expect(await codeOf(verifier.verify(await sign(stranger)))).toBe('TOKEN_INVALID')
    const hs = await signAccessToken(
      { userId: 'x', permissions: PERMS },
      { secret: 'a-test-secret-that-is-at-least-32-chars', keyId: 'k' },
    )
    expect(await codeOf(verifier.verify(hs))).toBe('TOKEN_ALGORITHM_NOT_ALLOWED')
  })

  it('reports an unreachable or failing key source', async () => {
    keys = [await makeKey('x')]
    failNext = true
    const verifier = createTokenVerifier({ jwksUrl, jwks: { timeoutMs: 2_000 } })
    expect(await codeOf(verifier.verify(await sign(keys[0] as KeyEntry)))).toBe('KEY_SOURCE_UNAVAILABLE')
    const dead = createTokenVerifier({ jwksUrl: 'http://127.0.0.1:1/jwks', jwks: { timeoutMs: 2_000 } })
    expect(await codeOf(dead.verify(await sign(keys[0] as KeyEntry)))).toBe('KEY_SOURCE_UNAVAILABLE')
  })
})
