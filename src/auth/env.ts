import { SignJWT } from 'jose'
import { parseApiKeysEnv } from './api-keys-env.js'
import type { AuthConfig } from './authenticator.js'
import { AuthConfigError } from './errors.js'
import type { RouteSigningOptions } from './routes.js'
import { createTokenVerifier, type TokenVerifierOptions } from './verifier.js'

/** Environment variables, as `process.env`. */
export type AuthEnv = Record<string, string | undefined>

/** Auth configuration read from the environment. */
export interface EnvAuthConfig extends AuthConfig {
  jwt?: TokenVerifierOptions
  /** Present when `JWT_SECRET` is set: lets `/auth/refresh` (and `/auth/login`) mint tokens. */
  signing?: RouteSigningOptions
}

// Option paths reported by the verifier, renamed to the variables a deployer actually sets.
const SETTING_NAMES: Record<string, string> = {
  jwt: 'JWT_SECRET / JWT_PUBLIC_KEY / JWT_JWKS_URL',
  'jwt.secret': 'JWT_SECRET',
  'jwt.publicKey': 'JWT_PUBLIC_KEY',
  'jwt.jwksUrl': 'JWT_JWKS_URL',
  'jwt.algorithms': 'JWT_ALGORITHMS',
  'jwt.clockToleranceSec': 'JWT_CLOCK_TOLERANCE',
}

/**
 * Auth configuration from the environment (see docs/security.md). Nothing set → `{}`: no JWT and
 * no API keys, so every credential is refused; whether the server then runs anonymous is the
 * runtime's `SYNCKIT_AUTH_REQUIRED` decision, never a default secret. Throws `AuthConfigError`
 * naming the variable at fault.
 */
export function authConfigFromEnv(env: AuthEnv): EnvAuthConfig {
  const config: EnvAuthConfig = {}
  const secret = read(env, 'JWT_SECRET')
  const publicKey = read(env, 'JWT_PUBLIC_KEY')
  const jwksUrl = read(env, 'JWT_JWKS_URL')
  if (secret !== undefined || publicKey !== undefined || jwksUrl !== undefined) {
    const jwt: TokenVerifierOptions = {}
    if (secret !== undefined) jwt.secret = secret
    // PEM in a single-line env value usually arrives with literal "\n" sequences.
    if (publicKey !== undefined) jwt.publicKey = publicKey.replace(/\\n/g, '\n')
    if (jwksUrl !== undefined) jwt.jwksUrl = jwksUrl
    const algorithms = list(read(env, 'JWT_ALGORITHMS'))
    if (algorithms) jwt.algorithms = algorithms
    const issuer = read(env, 'JWT_ISSUER')
    if (issuer !== undefined) jwt.issuer = issuer
    const audience = list(read(env, 'JWT_AUDIENCE'))
    if (audience) jwt.audience = audience.length === 1 ? (audience[0] as string) : audience
    const tolerance = read(env, 'JWT_CLOCK_TOLERANCE')
    if (tolerance !== undefined) {
      if (!/^\d+$/.test(tolerance)) throw new AuthConfigError('JWT_CLOCK_TOLERANCE', 'must be whole seconds')
      jwt.clockToleranceSec = Number(tolerance)
    }
    validate(jwt)
    config.jwt = jwt
    if (secret !== undefined) config.signing = signingFromEnv(env, secret, jwt)
  }
  const apiKeys = read(env, 'SYNCKIT_AUTH_APIKEYS')
  if (apiKeys !== undefined) {
    const entries = parseApiKeysEnv(apiKeys)
    if (entries.length > 0) config.apiKeys = entries
  }
  return config
}

function signingFromEnv(env: AuthEnv, secret: string, jwt: TokenVerifierOptions): RouteSigningOptions {
  const signing: RouteSigningOptions = { secret }
  const expiresIn = duration(env, 'JWT_EXPIRES_IN')
  if (expiresIn !== undefined) signing.expiresIn = expiresIn
  const refreshExpiresIn = duration(env, 'JWT_REFRESH_EXPIRES_IN')
  if (refreshExpiresIn !== undefined) signing.refreshExpiresIn = refreshExpiresIn
  if (typeof jwt.issuer === 'string') signing.issuer = jwt.issuer
  if (jwt.audience !== undefined) signing.audience = jwt.audience
  return signing
}

function validate(jwt: TokenVerifierOptions): void {
  try {
    createTokenVerifier(jwt)
  } catch (error) {
    if (error instanceof AuthConfigError) {
      const message = error.message.slice(error.setting.length + 2)
      throw new AuthConfigError(SETTING_NAMES[error.setting] ?? error.setting, message)
    }
    throw error
  }
}

/** `'24h'`-style (as jose parses it) or whole seconds. */
function duration(env: AuthEnv, name: string): string | number | undefined {
  const value = read(env, name)
  if (value === undefined) return undefined
  if (/^\d+$/.test(value)) return Number(value)
  try {
    new SignJWT({}).setExpirationTime(value)
  } catch {
    throw new AuthConfigError(name, `invalid duration "${value}" (e.g. 15m, 24h, 7d, or seconds)`)
  }
  return value
}

function read(env: AuthEnv, name: string): string | undefined {
  const value = env[name]?.trim()
  return value ? value : undefined
}

function list(value: string | undefined): string[] | undefined {
  const items = value
    ?.split(',')
    .map((item) => item.trim())
    .filter(Boolean)
  return items && items.length > 0 ? items : undefined
}
