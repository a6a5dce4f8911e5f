import type { Credentials, Principal } from '../engine/types.js'
import { type ApiKeySource, type ApiKeyVerifier, createApiKeyVerifier } from './api-keys.js'
import { credentialsFromRequest } from './credentials.js'
import { AuthError } from './errors.js'
import type { RequestLike, VerifyCredentialsHook } from './hooks.js'
import { principalFromToken, resolveVerifier } from './tokens.js'
import type { TokenVerifier, TokenVerifierOptions } from './verifier.js'

/** Which credential a refusal concerns. */
export interface AuthFailure {
  /** Which credential failed. */
  method: 'token' | 'apiKey' | 'none'
  request: RequestLike
}

/** What `createAuthenticator` verifies with. */
export interface AuthConfig {
  /** JWT verification (HS* secret, public key or JWKS). */
  jwt?: TokenVerifierOptions | TokenVerifier
  /** A key list (compared in constant time) or a lookup callback. */
  apiKeys?: ApiKeySource
  /** Also look at the upgrade request (Bearer header, `?token=`, `X-API-Key`) when the message carries nothing. Default true. */
  credentialsFromRequest?: boolean
  /** Why a credential was refused, for logs and metrics (the client only learns "Authentication failed"). */
  onError?: (error: AuthError, failure: AuthFailure) => void
}

/**
 * Hooks known to read nothing of a request but its credentials (`credentialsFromRequest`): a
 * server keeps only those parts of each upgrade request for them, not every header.
 */
const READS_ONLY_CREDENTIALS = new WeakSet<VerifyCredentialsHook>()

/** True when `hook` reads nothing of a request but its credentials. */
export function readsOnlyCredentials(hook: VerifyCredentialsHook): boolean {
  return READS_ONLY_CREDENTIALS.has(hook)
}

/** Declares that `hook` reads nothing of a request but its credentials (for internal wrappers). */
export function markReadsOnlyCredentials(hook: VerifyCredentialsHook): VerifyCredentialsHook {
  READS_ONLY_CREDENTIALS.add(hook)
  return hook
}

/**
 * The built-in `VerifyCredentialsHook` (`auth.verifyCredentials`): a token is verified as a JWT, an API key against the key
 * source; when both are present the token is tried first and the key is the fallback (as in the
 * C# server). Resolves null on failure, never throws, so the engine answers `auth_error` + 1008.
 * Configuration is validated here, at construction.
 */
export function createAuthenticator(config: AuthConfig): VerifyCredentialsHook {
  const verifier = config.jwt ? resolveVerifier(config.jwt) : undefined
  const apiKeys: ApiKeyVerifier | undefined = config.apiKeys
    ? createApiKeyVerifier(config.apiKeys)
    : undefined
  const useRequest = config.credentialsFromRequest !== false

  const report = (error: unknown, failure: AuthFailure) => {
    const authError =
      error instanceof AuthError
        ? error
        : new AuthError('CALLBACK_FAILED', 'Verification failed', { cause: error })
    try {
      config.onError?.(authError, failure)
    } catch {
      // A broken logger must not turn a refusal into an exception inside the runtime.
    }
  }

  const hook = async (credentials: Credentials, request: RequestLike): Promise<Principal | null> => {
    let { token, apiKey } = credentials ?? {}
    if (!token && !apiKey && useRequest) ({ token, apiKey } = credentialsFromRequest(request ?? {}))
    if (!token && !apiKey) {
      report(new AuthError('CREDENTIALS_MISSING', 'No credentials'), { method: 'none', request })
      return null
    }
    if (token) {
      try {
        if (!verifier) throw new AuthError('TOKEN_UNSUPPORTED', 'JWT authentication is not configured')
        return principalFromToken(await verifier.verify(token, 'access'))
      } catch (error) {
        report(error, { method: 'token', request })
      }
    }
    if (apiKey) {
      try {
        if (!apiKeys) throw new AuthError('API_KEY_UNSUPPORTED', 'API keys are not configured')
        return await apiKeys(apiKey)
      } catch (error) {
        report(error, { method: 'apiKey', request })
      }
    }
    return null
  }
  // An `onError` of the caller's sees the request and may read any header of it.
  return config.onError ? hook : markReadsOnlyCredentials(hook)
}
