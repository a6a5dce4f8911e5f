import {
  type CryptoKey,
  createRemoteJWKSet,
  errors,
  importSPKI,
  importX509,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  type KeyObject,
} from 'jose'
import type { Permissions } from '../protocol/types.js'
import {
  DEFAULT_ASYMMETRIC_ALGORITHMS,
  DEFAULT_HMAC_ALGORITHMS,
  isHmacAlgorithm,
  isJwtAlgorithm,
  type JwtAlgorithm,
  MIN_SECRET_LENGTH,
} from './algorithms.js'
import { AuthConfigError, AuthError } from './errors.js'
import { parsePermissionsClaim } from './permissions.js'

/** A public key object: WebCrypto `CryptoKey`, Node `KeyObject`, or a public JWK. */
export type VerificationKey = CryptoKey | KeyObject | JWK

/** JWKS caching and fetching. */
export interface JwksOptions {
  /** How long a fetched key set is used before it is refetched. Default 600000 (10 min). */
  cacheMaxAgeMs?: number
  /** Minimum time between refetches triggered by an unknown `kid`. Default 30000. */
  cooldownMs?: number
  /** Fetch timeout. Default 5000. */
  timeoutMs?: number
  /** Allow `http:` to a non-loopback host (never do this in production). Default false. */
  allowInsecureHttp?: boolean
}

/** How JWTs are verified: keys, algorithms, claims. */
export interface TokenVerifierOptions {
  /** HMAC secret for HS256/384/512; at least 32 characters (bytes). */
  secret?: string | Uint8Array
  /** PEM (`BEGIN PUBLIC KEY` SPKI or `BEGIN CERTIFICATE`) or a key object, for RS/PS/ES/EdDSA. */
  publicKey?: string | VerificationKey
  /** JWKS endpoint of an identity provider; cached, refetched on an unknown `kid`. */
  jwksUrl?: string
  jwks?: JwksOptions
  /** Allow-list. Default: HS256/384/512 with `secret`, RS256/ES256/EdDSA with a key source. */
  algorithms?: string[]
  /** Required `iss` (any of, when a list). */
  issuer?: string | string[]
  /** Required `aud` (any of, when a list). */
  audience?: string | string[]
  /** Seconds of leeway on `exp`/`nbf`/`iat`. Default 0 (both SyncKit servers use none). */
  clockToleranceSec?: number
  /** Refuse tokens without `exp`. Default true: a token without one could never be cut off. */
  requireExpiry?: boolean
}

/** Access or refresh token. */
export type TokenKind = 'access' | 'refresh'

/** A verified token's claims. */
export interface VerifiedToken {
  kind: TokenKind
  /** `userId` claim (TypeScript SyncKit) or else `sub` (C# SyncKit, most identity providers). */
  userId: string
  email?: string
  /** Validated `permissions` claim; none when the claim is absent. */
  permissions: Permissions
  /** `exp` in ms since the epoch. */
  expiresAt?: number
  /**
   * `exp` plus the clock tolerance, in ms: the moment this verifier stops accepting the token.
   * `Principal.expiresAt` uses it, so the engine does not cut off a token the verifier just accepted.
   */
  validUntil?: number
  /** The full verified payload, for apps that read their own claims. */
  claims: JWTPayload
}

/** Verifies JWTs with one configuration (and one JWKS cache). */
export interface TokenVerifier {
  /** Verifies signature, algorithm, lifetime, `iss`/`aud` and token kind; throws `AuthError`. */
  verify(token: string, expected?: TokenKind): Promise<VerifiedToken>
}

/** Longer than any sane JWT; refusing early keeps base64/JSON work bounded for hostile input. */
export const MAX_TOKEN_LENGTH = 16_384

type ResolvedKey = CryptoKey | KeyObject | JWK | Uint8Array

/**
 * Builds a verifier, validating the configuration eagerly (a short secret or an impossible
 * algorithm list throws here, at startup, not on the first connection). HMAC algorithms only
 * ever get the secret and asymmetric ones only the public key/JWKS, so a token signed with the
 * public key as an HMAC secret (alg confusion) can never verify.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const secret = resolveSecret(options.secret)
  const hasKeySource = options.publicKey !== undefined || options.jwksUrl !== undefined
  if (options.publicKey !== undefined && options.jwksUrl !== undefined) {
    throw new AuthConfigError('jwt.publicKey', 'set either publicKey or jwksUrl, not both')
  }
  if (!secret && !hasKeySource) {
    throw new AuthConfigError('jwt', 'one of secret, publicKey or jwksUrl is required')
  }
  const algorithms = resolveAlgorithms(options.algorithms, secret !== undefined, hasKeySource)
  const clockTolerance = options.clockToleranceSec ?? 0
  if (!Number.isFinite(clockTolerance) || clockTolerance < 0) {
    throw new AuthConfigError('jwt.clockToleranceSec', 'must be a non-negative number of seconds')
  }
  const asymmetricKey = resolveAsymmetricKey(options)

  const getKey: JWTVerifyGetKey = async (header, token) => {
    const alg = header.alg
    // jose already enforces `algorithms`; this re-check keeps the key routing safe on its own.
    if (!isJwtAlgorithm(alg) || !algorithms.includes(alg)) {
      throw new AuthError('TOKEN_ALGORITHM_NOT_ALLOWED', `Algorithm ${String(alg)} is not allowed`)
    }
    if (isHmacAlgorithm(alg)) {
      if (!secret) throw new AuthError('TOKEN_ALGORITHM_NOT_ALLOWED', `No secret for ${alg}`)
      return secret
    }
    if (!asymmetricKey) throw new AuthError('TOKEN_ALGORITHM_NOT_ALLOWED', `No public key for ${alg}`)
    return asymmetricKey(header, token)
  }

  const verifyOptions = {
    algorithms: [...algorithms],
    clockTolerance,
    ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
    ...(options.audience !== undefined ? { audience: options.audience } : {}),
    ...(options.requireExpiry === false ? {} : { requiredClaims: ['exp'] }),
  }

  return {
    async verify(token, expected = 'access') {
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
        throw new AuthError('TOKEN_INVALID', 'Token missing or too long')
      }
      let payload: JWTPayload
      let header: JWTHeaderParameters
      try {
        const result = await jwtVerify(token, getKey, verifyOptions)
        payload = result.payload
        header = result.protectedHeader
      } catch (error) {
        throw toAuthError(error)
      }
      return readClaims(payload, header, expected, clockTolerance)
    },
  }
}

function resolveSecret(secret: string | Uint8Array | undefined): Uint8Array | undefined {
  if (secret === undefined) return undefined
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret
  const length = typeof secret === 'string' ? secret.length : secret.byteLength
  if (!(bytes instanceof Uint8Array) || length < MIN_SECRET_LENGTH) {
    throw new AuthConfigError('jwt.secret', `must be at least ${MIN_SECRET_LENGTH} characters`)
  }
  return bytes
}

function resolveAlgorithms(
  requested: string[] | undefined,
  hasSecret: boolean,
  hasKeySource: boolean,
): JwtAlgorithm[] {
  if (requested === undefined) {
    return [
      ...(hasSecret ? DEFAULT_HMAC_ALGORITHMS : []),
      ...(hasKeySource ? DEFAULT_ASYMMETRIC_ALGORITHMS : []),
    ]
  }
  if (requested.length === 0) throw new AuthConfigError('jwt.algorithms', 'must not be empty')
  const result: JwtAlgorithm[] = []
  for (const alg of requested) {
    if (!isJwtAlgorithm(alg)) throw new AuthConfigError('jwt.algorithms', `unsupported algorithm ${alg}`)
    if (isHmacAlgorithm(alg) && !hasSecret) {
      throw new AuthConfigError('jwt.algorithms', `${alg} needs a secret`)
    }
    if (!isHmacAlgorithm(alg) && !hasKeySource) {
      throw new AuthConfigError('jwt.algorithms', `${alg} needs publicKey or jwksUrl`)
    }
    result.push(alg)
  }
  return result
}

type KeyResolver = (
  header: JWTHeaderParameters,
  token: Parameters<JWTVerifyGetKey>[1],
) => Promise<ResolvedKey>

function resolveAsymmetricKey(options: TokenVerifierOptions): KeyResolver | undefined {
  if (options.jwksUrl !== undefined) return remoteKeySet(options.jwksUrl, options.jwks ?? {})
  const key = options.publicKey
  if (key === undefined) return undefined
  if (typeof key === 'string') return pemKey(key)
  assertPublicKeyObject(key)
  return async () => key
}

function pemKey(pem: string): KeyResolver {
  const isCertificate = pem.includes('-----BEGIN CERTIFICATE-----')
  if (!isCertificate && !pem.includes('-----BEGIN PUBLIC KEY-----')) {
    throw new AuthConfigError('jwt.publicKey', 'expected a PEM "PUBLIC KEY" (SPKI) or "CERTIFICATE"')
  }
  // WebCrypto binds a key to one algorithm, so import lazily once per allowed alg actually seen.
  const imported = new Map<string, Promise<CryptoKey>>()
  return (header) => {
    let key = imported.get(header.alg)
    if (!key) {
      key = isCertificate ? importX509(pem, header.alg) : importSPKI(pem, header.alg)
      key.catch(() => undefined) // the caller awaits it; this only silences the cached copy
      imported.set(header.alg, key)
    }
    return key
  }
}

function assertPublicKeyObject(key: VerificationKey): void {
  if ('kty' in key) {
    const jwk = key as JWK
    if (jwk.kty === 'oct' || jwk.d !== undefined) {
      throw new AuthConfigError('jwt.publicKey', 'JWK must be a public key (no "d", not "oct")')
    }
    return
  }
  if ((key as { type?: string }).type !== 'public') {
    throw new AuthConfigError('jwt.publicKey', 'must be a public key (use secret for HMAC)')
  }
}

function remoteKeySet(jwksUrl: string, options: JwksOptions): KeyResolver {
  let url: URL
  try {
    url = new URL(jwksUrl)
  } catch {
    throw new AuthConfigError('jwt.jwksUrl', 'must be an absolute URL')
  }
  const loopback = ['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && (loopback || options.allowInsecureHttp))) {
    throw new AuthConfigError('jwt.jwksUrl', 'must use https (http only for loopback)')
  }
  const keySet = createRemoteJWKSet(url, {
    ...(options.cacheMaxAgeMs !== undefined ? { cacheMaxAge: options.cacheMaxAgeMs } : {}),
    ...(options.cooldownMs !== undefined ? { cooldownDuration: options.cooldownMs } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutDuration: options.timeoutMs } : {}),
  })
  return async (header, token) => {
    try {
      return await keySet(header, token)
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
        throw new AuthError('KEY_NOT_FOUND', `No JWKS key for kid ${String(header.kid)}`, { cause: error })
      }
      throw new AuthError('KEY_SOURCE_UNAVAILABLE', 'JWKS could not be fetched', { cause: error })
    }
  }
}

function toAuthError(error: unknown): AuthError {
  if (error instanceof AuthError) return error
  if (error instanceof errors.JWTExpired)
    return new AuthError('TOKEN_EXPIRED', 'Token expired', { cause: error })
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf')
      return new AuthError('TOKEN_NOT_YET_VALID', 'Token not yet valid', { cause: error })
    if (error.claim === 'exp' && error.reason === 'missing') {
      return new AuthError('TOKEN_MISSING_EXPIRY', 'Token has no exp', { cause: error })
    }
    if (error.claim === 'iss' || error.claim === 'aud') {
      return new AuthError('TOKEN_CLAIM_MISMATCH', `Unexpected ${error.claim}`, { cause: error })
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return new AuthError('TOKEN_ALGORITHM_NOT_ALLOWED', 'Algorithm not allowed', { cause: error })
  }
  return new AuthError('TOKEN_INVALID', 'Invalid token', { cause: error })
}

const REFRESH_MARKERS = new Set(['refresh', 'refresh+jwt'])

function isRefreshToken(payload: JWTPayload, header: JWTHeaderParameters): boolean {
  const marker = (value: unknown) => typeof value === 'string' && REFRESH_MARKERS.has(value.toLowerCase())
  return marker(payload.type) || marker(payload.typ) || marker(header.typ)
}

function readClaims(
  payload: JWTPayload,
  header: JWTHeaderParameters,
  expected: TokenKind,
  clockToleranceSec: number,
): VerifiedToken {
  const kind: TokenKind = isRefreshToken(payload, header) ? 'refresh' : 'access'
  if (kind !== expected) {
    throw kind === 'refresh'
      ? new AuthError('TOKEN_REFRESH_NOT_ACCESS', 'Refresh token used as an access token')
      : new AuthError('TOKEN_ACCESS_NOT_REFRESH', 'Access token used as a refresh token')
  }
  const userId = nonEmptyString(payload.userId) ?? nonEmptyString(payload.sub)
  if (userId === undefined) throw new AuthError('TOKEN_MISSING_SUBJECT', 'Token has neither userId nor sub')
  const email = nonEmptyString(payload.email)
  return {
    kind,
    userId,
    ...(email !== undefined ? { email } : {}),
    permissions: parsePermissionsClaim(payload.permissions),
    ...(typeof payload.exp === 'number'
      ? { expiresAt: payload.exp * 1000, validUntil: (payload.exp + clockToleranceSec) * 1000 }
      : {}),
    claims: payload,
  }
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined
}
