/** JWS algorithms this module will ever accept. `none` is deliberately absent. */
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const
export const ASYMMETRIC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const

export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number]
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number]
/** A JWT algorithm the verifier can allow. */
export type JwtAlgorithm = HmacAlgorithm | AsymmetricAlgorithm

/** Defaults when `algorithms` is not given: the common ones for each key source. */
export const DEFAULT_HMAC_ALGORITHMS: readonly JwtAlgorithm[] = HMAC_ALGORITHMS
export const DEFAULT_ASYMMETRIC_ALGORITHMS: readonly JwtAlgorithm[] = ['RS256', 'ES256', 'EdDSA']

/** HMAC secrets shorter than this are brute-forceable offline from any token; both SyncKit servers require it too. */
export const MIN_SECRET_LENGTH = 32

export function isJwtAlgorithm(value: string): value is JwtAlgorithm {
  return isHmacAlgorithm(value) || (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(value)
}

export function isHmacAlgorithm(value: string): value is HmacAlgorithm {
  return (HMAC_ALGORITHMS as readonly string[]).includes(value)
}
