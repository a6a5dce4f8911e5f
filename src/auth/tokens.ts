import { type CryptoKey, importPKCS8, type KeyObject, SignJWT } from 'jose'
import type { Principal } from '../engine/types.js'
import type { Permissions } from '../protocol/types.js'
import { isHmacAlgorithm, isJwtAlgorithm, type JwtAlgorithm, MIN_SECRET_LENGTH } from './algorithms.js'
import { clonePermissions } from './permissions.js'
import {
  createTokenVerifier,
  type TokenVerifier,
  type TokenVerifierOptions,
  type VerifiedToken,
} from './verifier.js'

/** HMAC secret (string/bytes), PEM PKCS#8 private key, or a private key object. */
export type SigningKey = string | Uint8Array | CryptoKey | KeyObject

/** How tokens are signed (key, algorithm, lifetime, issuer, audience). */
export interface SigningOptions {
  secret: SigningKey
  /** Default HS256 for a string/bytes secret, inferred from a `CryptoKey`; required for PEM/KeyObject. */
  algorithm?: JwtAlgorithm
  /** vercel/ms-style string (`'24h'`, `'7d'`, `'-10s'`) or seconds from now. */
  expiresIn?: string | number
  issuer?: string
  audience?: string | string[]
  /** `kid` header, for verifiers that pick the key from a JWKS. */
  keyId?: string
}

/** The claims of an access token. */
export interface AccessTokenClaims {
  userId: string
  email?: string
  permissions: Permissions
}

/** The claims of a refresh token. */
export interface RefreshTokenClaims {
  userId: string
  email?: string
  /** Carried so `/auth/refresh` can mint an access token with the same grant (the reference lost it). */
  permissions?: Permissions
}

export const DEFAULT_ACCESS_EXPIRES_IN = '24h'
export const DEFAULT_REFRESH_EXPIRES_IN = '7d'

/** Claims `userId`, `sub` (= userId, for `sub`-reading verifiers), `email`, `permissions`, `type: 'access'`. */
export function signAccessToken(claims: AccessTokenClaims, options: SigningOptions): Promise<string> {
  return sign(
    {
      userId: claims.userId,
      ...(claims.email !== undefined ? { email: claims.email } : {}),
      permissions: clonePermissions(claims.permissions),
      type: 'access',
    },
    claims.userId,
    options,
    DEFAULT_ACCESS_EXPIRES_IN,
  )
}

/**
 * `type: 'refresh'`, default lifetime 7 days. It carries the permissions claim so a refresh can
 * re-issue the same grant; the verifier refuses it as an access token regardless.
 */
export function signRefreshToken(claims: RefreshTokenClaims, options: SigningOptions): Promise<string> {
  return sign(
    {
      userId: claims.userId,
      ...(claims.email !== undefined ? { email: claims.email } : {}),
      ...(claims.permissions !== undefined ? { permissions: clonePermissions(claims.permissions) } : {}),
      type: 'refresh',
    },
    claims.userId,
    options,
    DEFAULT_REFRESH_EXPIRES_IN,
  )
}

// Verifiers built from an options object are reused, so JWKS caches and imported keys survive calls.
const verifiers = new WeakMap<TokenVerifierOptions, TokenVerifier>()

/** Verifies an access token; throws `AuthError` (`TOKEN_EXPIRED`, `TOKEN_INVALID`, ...). */
export function verifyToken(
  token: string,
  verifier: TokenVerifierOptions | TokenVerifier,
): Promise<VerifiedToken> {
  return resolveVerifier(verifier).verify(token, 'access')
}

/** Verifies a refresh token (and refuses access tokens, `TOKEN_ACCESS_NOT_REFRESH`). */
export function verifyRefreshToken(
  token: string,
  verifier: TokenVerifierOptions | TokenVerifier,
): Promise<VerifiedToken> {
  return resolveVerifier(verifier).verify(token, 'refresh')
}

export function resolveVerifier(verifier: TokenVerifierOptions | TokenVerifier): TokenVerifier {
  if (isTokenVerifier(verifier)) return verifier
  let built = verifiers.get(verifier)
  if (!built) {
    built = createTokenVerifier(verifier)
    verifiers.set(verifier, built)
  }
  return built
}

/**
 * The engine principal for a verified access token. `expiresAt` (exp, plus the clock tolerance
 * when there is one) drives the engine's expiry notice and in-band re-auth.
 */
export function principalFromToken(token: VerifiedToken): Principal {
  const expiresAt = token.validUntil ?? token.expiresAt
  return {
    userId: token.userId,
    permissions: clonePermissions(token.permissions),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
    via: 'token',
  }
}

function isTokenVerifier(value: TokenVerifierOptions | TokenVerifier): value is TokenVerifier {
  return typeof (value as Partial<TokenVerifier>).verify === 'function'
}

async function sign(
  payload: Record<string, unknown>,
  subject: string,
  options: SigningOptions,
  defaultExpiresIn: string,
): Promise<string> {
  if (typeof subject !== 'string' || subject.length === 0)
    throw new TypeError('userId must be a non-empty string')
  const algorithm = options.algorithm ?? inferAlgorithm(options.secret)
  const key = await signingKey(options.secret, algorithm)
  const expiresIn = options.expiresIn ?? defaultExpiresIn
  const jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: algorithm, typ: 'JWT', ...(options.keyId ? { kid: options.keyId } : {}) })
    .setSubject(subject)
    .setIssuedAt()
  if (typeof expiresIn === 'number') {
    if (!Number.isFinite(expiresIn)) throw new TypeError('expiresIn must be a finite number of seconds')
    // jose reads a number as an absolute time; ours is relative, like jsonwebtoken's.
    jwt.setExpirationTime(Math.floor(Date.now() / 1000) + Math.trunc(expiresIn))
  } else {
    jwt.setExpirationTime(expiresIn)
  }
  if (options.issuer !== undefined) jwt.setIssuer(options.issuer)
  if (options.audience !== undefined) jwt.setAudience(options.audience)
  return jwt.sign(key)
}

async function signingKey(
  secret: SigningKey,
  algorithm: JwtAlgorithm,
): Promise<CryptoKey | KeyObject | Uint8Array> {
  if (!isJwtAlgorithm(algorithm)) throw new TypeError(`Unsupported algorithm ${String(algorithm)}`)
  const hmac = isHmacAlgorithm(algorithm)
  if (typeof secret === 'string' && secret.includes('-----BEGIN')) {
    if (hmac) throw new TypeError(`${algorithm} needs a shared secret, not a PEM key`)
    return importPKCS8(secret, algorithm)
  }
  if (typeof secret === 'string' || secret instanceof Uint8Array) {
    if (!hmac) throw new TypeError(`${algorithm} needs a private key, not a shared secret`)
    const length = typeof secret === 'string' ? secret.length : secret.byteLength
    if (length < MIN_SECRET_LENGTH)
      throw new TypeError(`secret must be at least ${MIN_SECRET_LENGTH} characters`)
    return typeof secret === 'string' ? new TextEncoder().encode(secret) : secret
  }
  return secret
}

function inferAlgorithm(secret: SigningKey): JwtAlgorithm {
  if (typeof secret === 'string' && !secret.includes('-----BEGIN')) return 'HS256'
  if (secret instanceof Uint8Array) return 'HS256'
  const algorithm = (
    secret as { algorithm?: { name?: string; hash?: { name?: string }; namedCurve?: string } }
  ).algorithm
  const bits = algorithm?.hash?.name?.replace('SHA-', '')
  const inferred: Record<string, string | undefined> = {
    HMAC: `HS${bits}`,
    'RSASSA-PKCS1-v1_5': `RS${bits}`,
    'RSA-PSS': `PS${bits}`,
    ECDSA: { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[algorithm?.namedCurve ?? ''],
    Ed25519: 'EdDSA',
  }
  const candidate = inferred[algorithm?.name ?? '']
  if (candidate && isJwtAlgorithm(candidate)) return candidate
  throw new TypeError('algorithm is required for this signing key')
}
