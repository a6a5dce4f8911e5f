/**
 * Why a credential was refused. Stable strings: they end up in logs, metrics and `onError`
 * callbacks, never on the wire (the engine always answers `Authentication failed`).
 */
export type AuthErrorCode =
  /** `exp` is in the past (beyond the clock tolerance). */
  | 'TOKEN_EXPIRED'
  /** `nbf` is in the future (beyond the clock tolerance). */
  | 'TOKEN_NOT_YET_VALID'
  /** Malformed, bad signature, key/alg mismatch, or a claim of the wrong type. */
  | 'TOKEN_INVALID'
  /** The header's `alg` is not on the allow-list (includes `none`). */
  | 'TOKEN_ALGORITHM_NOT_ALLOWED'
  /** `iss` or `aud` does not match the configured value. */
  | 'TOKEN_CLAIM_MISMATCH'
  /** No `exp` although expiry is required. */
  | 'TOKEN_MISSING_EXPIRY'
  /** Neither `userId` nor `sub` is a non-empty string. */
  | 'TOKEN_MISSING_SUBJECT'
  /** `permissions` is present but not `{canRead: string[], canWrite: string[], isAdmin: boolean}`. */
  | 'TOKEN_INVALID_PERMISSIONS'
  /** A refresh token was presented where an access token is needed. */
  | 'TOKEN_REFRESH_NOT_ACCESS'
  /** An access token was presented where a refresh token is needed. */
  | 'TOKEN_ACCESS_NOT_REFRESH'
  /** The JWKS has no key for the token's `kid`/`alg` (after a refetch, cooldown permitting). */
  | 'KEY_NOT_FOUND'
  /** The JWKS endpoint could not be fetched or parsed. */
  | 'KEY_SOURCE_UNAVAILABLE'
  /** A token was presented but no JWT verification is configured. */
  | 'TOKEN_UNSUPPORTED'
  /** The API key matches no configured key (or the lookup refused it). */
  | 'API_KEY_INVALID'
  /** An API key was presented but no API keys are configured. */
  | 'API_KEY_UNSUPPORTED'
  /** The message and the upgrade request carried no credentials. */
  | 'CREDENTIALS_MISSING'
  /** An app-supplied callback threw. */
  | 'CALLBACK_FAILED'

/** Why a credential was refused (`code`), for logs; clients only see `Authentication failed`. */
export class AuthError extends Error {
  override readonly name = 'AuthError'
  readonly code: AuthErrorCode

  constructor(code: AuthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }
}

/** Thrown at construction for unusable configuration; `setting` names the option or env variable. */
export class AuthConfigError extends Error {
  override readonly name = 'AuthConfigError'
  readonly setting: string

  constructor(setting: string, message: string) {
    super(`${setting}: ${message}`)
    this.setting = setting
  }
}
