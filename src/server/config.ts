import { AuthConfigError, authConfigFromEnv, createAuthenticator, type EnvAuthConfig } from '../auth/index.js'
import { isValidNodeId, NODE_ID_RULE } from '../storage/codec.js'
import { compileTrustProxy, TRUST_PROXY_EXPECTED, TrustProxyError } from './client-ip.js'
import { originPolicy } from './door.js'
import { checkMetricsToken } from './http.js'
import type { SyncServerOptions, TrustProxy } from './options.js'

/**
 * Configuration of the standalone server (`synckit-engine` CLI) from SyncKit's environment
 * variables (docs/operations.md lists them) and command-line flags. Every bad value is refused at startup with
 * a message naming the setting, never silently replaced by a default.
 */

export type RunMode = 'development' | 'production' | 'test'

export interface CliConfig {
  server: SyncServerOptions
  port: number
  host: string
  /** `embedded` (SQLite in `dataDir`, the default), `pglite` (in `dataDir`), `memory`, or a postgres:// URL. */
  storage: 'embedded' | 'pglite' | 'memory' | string
  /** Where an embedded store keeps its files. */
  dataDir: string
  mode: RunMode
  /** `--help` was given: print HELP_TEXT and exit (nothing else was validated). */
  help: boolean
  /** Anonymous mode: every connection is authenticated on open. */
  anonymous: boolean
  /** Serve the demo page at `/` to browsers: in development mode, or with `--demo`. */
  demo: boolean
  redisUrl?: string
  /** `SYNCKIT_PG_SCHEMA`: schema of the SQL store's tables (default: the search_path). */
  pgSchema?: string
  /** `REDIS_CHANNEL_PREFIX`: prefix of the broker's Redis channels (default `synckit:`). */
  redisPrefix?: string
  /** `LOG_LEVEL`: pino level of the CLI's logger (default `info`). */
  logLevel: CliLogLevel
  /** `SYNCKIT_SQLITE_SYNCHRONOUS`: durability of the embedded SQLite store's commits (default normal). */
  sqliteSynchronous?: 'full' | 'normal'
}

/** pino's levels. */
export type CliLogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'
const LOG_LEVELS: readonly CliLogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']

/** A setting with an unusable value; `setting` names the env variable or flag. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(message)
  }
}

export const HELP_TEXT = `synckit-engine: a real-time sync server speaking the SyncKit wire protocol

Usage: synckit-engine [options]

Options:
  --port <n>         Port to listen on (env PORT, default 8080; 0 picks a free port)
  --host <addr>      Address to bind (env HOST). Default 127.0.0.1 (this machine only) in
                     development and test mode, 0.0.0.0 (every interface) in production;
                     HOST=0.0.0.0 exposes a development server
  --storage <s>      embedded (SQLite in --data), pglite (PGlite in --data), memory, or a
                     postgres:// URL (env DATABASE_URL; default embedded). One process per
                     data directory; a PGlite directory is migrated to SQLite by embedded
  --data <dir>       Data directory for embedded storage (env SYNCKIT_DATA_DIR, default ./synckit-data)
  --demo             Serve the collaborative demo at / to browsers (always on in development mode)
  -h, --help         Show this help

Environment:
  NODE_ENV                          development | production | test (default development). Logs are
                                    JSON lines in production, readable lines otherwise
  LOG_LEVEL                         trace | debug | info | warn | error | fatal | silent (default info)
  PORT, HOST                        as --port, --host
  SYNCKIT_AUTH_REQUIRED             true | false. Default: false in development and test
                                    (anonymous access), true in production
  JWT_SECRET                        HMAC secret for JWTs, at least 32 characters. Production needs it
                                    (or another credential source) unless SYNCKIT_AUTH_REQUIRED=false
  JWT_PUBLIC_KEY, JWT_JWKS_URL      Verify JWTs with a public key (PEM) or a JWKS endpoint instead
  JWT_ALGORITHMS, JWT_ISSUER,       Token checks (comma-separated lists; tolerance in seconds)
  JWT_AUDIENCE, JWT_CLOCK_TOLERANCE
  JWT_EXPIRES_IN,                   Lifetimes of tokens minted by /auth (e.g. 15m, 24h, 7d)
  JWT_REFRESH_EXPIRES_IN
  SYNCKIT_AUTH_APIKEYS              API keys: comma-separated [name:]key[=READ/WRITE|admin]
  WS_MAX_CONNECTIONS                Maximum WebSocket connections (default 10000)
  SYNCKIT_MAX_CONNECTIONS_PER_IP    Maximum connections per client address (default 50)
  SYNCKIT_MAX_MESSAGES_PER_MINUTE   Per-connection message rate limit (default 500)
  WS_HEARTBEAT_INTERVAL             Protocol ping period in ms (default 30000)
  DATABASE_URL                      postgres:// URL of the document store (same as --storage)
  REDIS_URL                         redis:// URL for multi-node fan-out
  REDIS_CHANNEL_PREFIX              Prefix of the Redis channels (default synckit:); nodes of one
                                    cluster share it, other deployments on the same Redis use another
  SYNCKIT_PG_SCHEMA                 Schema of the store's tables (Postgres or pglite; embedded reads
                                    it when migrating a PGlite directory), created if missing;
                                    default the database's search_path (usually public)
  SYNCKIT_DATA_DIR                  as --data
  SYNCKIT_SQLITE_SYNCHRONOUS        normal | full: embedded store commits (default normal: an acked
                                    write survives the process being killed; full: a power cut too,
                                    one fsync per commit)
  SYNCKIT_TRUST_PROXY               Proxies allowed to name the client address (X-Forwarded-For, or
                                    X-Real-IP without it) for per-IP limits: false (default), true
                                    (one proxy), a number of proxies, or a comma-separated list of
                                    proxy addresses, CIDR ranges, loopback, linklocal, uniquelocal
  SYNCKIT_METRICS_TOKEN             Bearer token (16+ characters) for /metrics and the detailed
                                    /health; the basic /health status stays open (default: unset,
                                    both open)
  SYNCKIT_NODE_ID                   Node identity in a cluster (default random per process)
  SYNCKIT_EXPOSE_DOCUMENT_IDS       true | false: list document ids in GET /health (default false)
  SYNCKIT_ALLOWED_ORIGINS           Comma-separated browser origins allowed to open a WebSocket
                                    (https://app.example.com, https://*.example.com, *); others get
                                    403. Default: any origin
`

type Env = Record<string, string | undefined>

const FLAGS = new Set(['--port', '--host', '--storage', '--data'])

/**
 * Reads the configuration. `argv` is the arguments after the script (`process.argv.slice(2)`);
 * flags win over the environment. Throws `ConfigError`.
 */
export function configFromEnv(env: Env, argv: readonly string[] = []): CliConfig {
  const flags = parseArgs(argv)
  if (flags.help) return helpOnly()
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim()
    return value ? value : undefined
  }
  const mode = parseMode(read('NODE_ENV'))
  const port = integer(
    flags.port === undefined ? 'PORT' : '--port',
    flags.port ?? read('PORT'),
    0,
    65_535,
    8080,
  )
  // A development server (anonymous by default) is reachable from this machine only unless asked.
  const host = parseHost(
    flags.host === undefined ? 'HOST' : '--host',
    flags.host ?? read('HOST') ?? (mode === 'production' ? '0.0.0.0' : '127.0.0.1'),
  )
  const storage = parseStorage(flags.storage, read('DATABASE_URL'))
  const dataDir = flags.data ?? read('SYNCKIT_DATA_DIR') ?? './synckit-data'
  const redisUrl = read('REDIS_URL')
  if (redisUrl !== undefined)
    checkUrl('REDIS_URL', redisUrl, ['redis:', 'rediss:'], 'a redis:// or rediss:// URL')

  const pgSchema = read('SYNCKIT_PG_SCHEMA')
  if (pgSchema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(pgSchema)) {
    throw invalid(
      'SYNCKIT_PG_SCHEMA',
      pgSchema,
      'expected a lower-case identifier of [a-z0-9_] (not starting with a digit), at most 63 characters',
    )
  }
  const redisPrefix = read('REDIS_CHANNEL_PREFIX')
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (redisPrefix !== undefined && !/^[^\s\u0000-\u001f\u007f]{1,128}$/.test(redisPrefix)) {
    throw invalid(
      'REDIS_CHANNEL_PREFIX',
      redisPrefix,
      'expected 1-128 characters without spaces or control characters',
    )
  }

  const sqliteSynchronous = read('SYNCKIT_SQLITE_SYNCHRONOUS')?.toLowerCase()
  if (sqliteSynchronous !== undefined && sqliteSynchronous !== 'full' && sqliteSynchronous !== 'normal') {
    throw invalid('SYNCKIT_SQLITE_SYNCHRONOUS', sqliteSynchronous, 'expected normal or full')
  }

  const server: SyncServerOptions = { auth: authOptions(env, read, mode) }
  const nodeId = read('SYNCKIT_NODE_ID')
  if (nodeId !== undefined) {
    if (!isValidNodeId(nodeId)) throw invalid('SYNCKIT_NODE_ID', nodeId, `expected ${NODE_ID_RULE}`)
    server.nodeId = nodeId
  }
  const positive = (name: string) => optionalInteger(name, read(name), 1, Number.MAX_SAFE_INTEGER)
  const maxConnections = positive('WS_MAX_CONNECTIONS')
  if (maxConnections !== undefined) server.maxConnections = maxConnections
  const perIp = positive('SYNCKIT_MAX_CONNECTIONS_PER_IP')
  if (perIp !== undefined) server.maxConnectionsPerIp = perIp
  const rate = positive('SYNCKIT_MAX_MESSAGES_PER_MINUTE')
  if (rate !== undefined) server.maxMessagesPerMinute = rate
  const heartbeat = optionalInteger('WS_HEARTBEAT_INTERVAL', read('WS_HEARTBEAT_INTERVAL'), 100, 86_400_000)
  if (heartbeat !== undefined) server.heartbeat = { intervalMs: heartbeat }
  const trustProxy = parseTrustProxy(read('SYNCKIT_TRUST_PROXY'))
  if (trustProxy !== undefined) server.trustProxy = trustProxy
  const expose = boolean('SYNCKIT_EXPOSE_DOCUMENT_IDS', read('SYNCKIT_EXPOSE_DOCUMENT_IDS'))
  if (expose !== undefined) server.http = { exposeDocumentIds: expose }
  const origins = read('SYNCKIT_ALLOWED_ORIGINS')
  if (origins !== undefined) server.allowedOrigins = allowedOrigins(origins)
  const metricsToken = read('SYNCKIT_METRICS_TOKEN')
  if (metricsToken !== undefined) {
    const problem = checkMetricsToken(metricsToken)
    // The value is a secret: the message describes it, never repeats it.
    if (problem) throw new ConfigError('SYNCKIT_METRICS_TOKEN', `Invalid SYNCKIT_METRICS_TOKEN: ${problem}`)
    server.http = { ...server.http, metricsToken }
  }

  const logLevel = read('LOG_LEVEL')?.toLowerCase() ?? 'info'
  if (!LOG_LEVELS.includes(logLevel as CliLogLevel)) {
    throw invalid('LOG_LEVEL', logLevel, `expected one of ${LOG_LEVELS.join(', ')}`)
  }
  const config: CliConfig = {
    server,
    port,
    host,
    storage,
    dataDir,
    mode,
    help: false,
    anonymous: server.auth?.required === false,
    logLevel: logLevel as CliLogLevel,
    demo: flags.demo || mode === 'development',
  }
  if (redisUrl !== undefined) config.redisUrl = redisUrl
  if (pgSchema !== undefined) config.pgSchema = pgSchema
  if (redisPrefix !== undefined) config.redisPrefix = redisPrefix
  if (sqliteSynchronous !== undefined) config.sqliteSynchronous = sqliteSynchronous
  return config
}

function authOptions(env: Env, read: (name: string) => string | undefined, mode: RunMode) {
  const explicit = boolean('SYNCKIT_AUTH_REQUIRED', read('SYNCKIT_AUTH_REQUIRED'))
  // Anonymous by default only where it is safe: a forgotten setting must not open production.
  const required = explicit ?? mode === 'production'
  const secret = read('JWT_SECRET')
  if (secret !== undefined && secret.length < 32) {
    // The value is a secret: report its length, never the value.
    throw new ConfigError(
      'JWT_SECRET',
      `Invalid JWT_SECRET: expected at least 32 characters (got ${secret.length})`,
    )
  }
  let sources: EnvAuthConfig
  try {
    sources = authConfigFromEnv(env)
  } catch (error) {
    if (error instanceof AuthConfigError) throw new ConfigError(error.setting, `Invalid ${error.message}`)
    throw error
  }
  const verifiable = sources.jwt !== undefined || sources.apiKeys !== undefined
  if (required && !verifiable) {
    const why =
      explicit === undefined
        ? 'NODE_ENV=production requires authentication'
        : 'SYNCKIT_AUTH_REQUIRED=true needs a way to verify credentials'
    throw new ConfigError(
      'JWT_SECRET',
      `${why}: set JWT_SECRET (at least 32 characters), JWT_PUBLIC_KEY, JWT_JWKS_URL or SYNCKIT_AUTH_APIKEYS, ` +
        'or SYNCKIT_AUTH_REQUIRED=false to allow anonymous access',
    )
  }
  if (!verifiable) return { required }
  try {
    return { required, verifyCredentials: createAuthenticator(sources) }
  } catch (error) {
    if (error instanceof AuthConfigError) throw new ConfigError(error.setting, `Invalid ${error.message}`)
    throw error
  }
}

interface Flags {
  help: boolean
  demo: boolean
  port?: string
  host?: string
  storage?: string
  data?: string
}

function parseArgs(argv: readonly string[]): Flags {
  const flags: Flags = { help: false, demo: false }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--help' || arg === '-h') {
      flags.help = true
      continue
    }
    if (arg === '--demo') {
      flags.demo = true
      continue
    }
    const eq = arg.indexOf('=')
    const name = eq === -1 ? arg : arg.slice(0, eq)
    if (!FLAGS.has(name)) throw new ConfigError(arg, `Unknown option "${arg}" (see --help)`)
    let value = eq === -1 ? argv[i + 1] : arg.slice(eq + 1)
    if (eq === -1) i++
    value = value?.trim()
    if (!value || (eq === -1 && value.startsWith('--')))
      throw new ConfigError(name, `Missing value for ${name}`)
    flags[name.slice(2) as 'port' | 'host' | 'storage' | 'data'] = value
  }
  return flags
}

function helpOnly(): CliConfig {
  return {
    server: {},
    port: 8080,
    host: '127.0.0.1',
    storage: 'memory',
    dataDir: './synckit-data',
    mode: 'development',
    help: true,
    anonymous: false,
    logLevel: 'info',
    demo: false,
  }
}

/** Comma-separated origins, checked here so a typo fails at startup with the setting's name. */
function allowedOrigins(value: string): string[] {
  const list = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
  try {
    originPolicy(list)
  } catch (error) {
    throw invalid(
      'SYNCKIT_ALLOWED_ORIGINS',
      value,
      (error as Error).message.replace(/^Invalid option allowedOrigins: /, ''),
    )
  }
  return list
}

function parseMode(value: string | undefined): RunMode {
  if (value === undefined) return 'development'
  if (value === 'development' || value === 'production' || value === 'test') return value
  throw invalid('NODE_ENV', value, 'expected one of development, production, test')
}

function parseHost(setting: string, value: string): string {
  if (/^[A-Za-z0-9.:[\]_-]+$/.test(value)) return value.replace(/^\[(.*)\]$/, '$1')
  throw invalid(setting, value, 'expected a hostname or IP address')
}

function parseStorage(flag: string | undefined, databaseUrl: string | undefined): string {
  if (flag !== undefined) {
    if (flag === 'memory' || flag === 'embedded' || flag === 'pglite') return flag
    checkUrl(
      '--storage',
      flag,
      ['postgres:', 'postgresql:'],
      '"embedded", "pglite", "memory" or a postgres:// URL',
    )
    return flag
  }
  // The embedded store (SQLite in the data directory) keeps data across restarts, no service needed.
  if (databaseUrl === undefined) return 'embedded'
  checkUrl('DATABASE_URL', databaseUrl, ['postgres:', 'postgresql:'], 'a postgres:// or postgresql:// URL')
  return databaseUrl
}

function checkUrl(setting: string, value: string, protocols: string[], expected: string): void {
  let ok = false
  try {
    const url = new URL(value)
    ok = protocols.includes(url.protocol) && url.hostname !== ''
  } catch {
    ok = false
  }
  if (!ok) throw invalid(setting, redact(value), `expected ${expected}`)
}

/** Connection strings carry passwords; error messages end up in logs. */
function redact(value: string): string {
  return value.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@')
}

function integer(
  setting: string,
  value: string | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  return optionalInteger(setting, value, min, max) ?? fallback
}

function optionalInteger(
  setting: string,
  value: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN
  if (Number.isSafeInteger(n) && n >= min && n <= max) return n
  const range =
    max === Number.MAX_SAFE_INTEGER
      ? min === 1
        ? 'a positive integer'
        : `an integer of at least ${min}`
      : `an integer between ${min} and ${max}`
  throw invalid(setting, value, `expected ${range}`)
}

function boolean(setting: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined
  const lower = value.toLowerCase()
  if (lower === 'true' || lower === '1') return true
  if (lower === 'false' || lower === '0') return false
  throw invalid(setting, value, 'expected true or false')
}

/** `true`/`false`, a number of hops, or a comma-separated list of addresses, ranges and presets. */
function parseTrustProxy(value: string | undefined): TrustProxy | undefined {
  if (value === undefined) return undefined
  const lower = value.toLowerCase()
  if (lower === 'true' || lower === 'false') return lower === 'true'
  const trust: TrustProxy = /^\d+$/.test(value)
    ? Number(value)
    : value.split(',').map((entry) => entry.trim())
  try {
    compileTrustProxy(trust)
  } catch (error) {
    if (!(error instanceof TrustProxyError)) throw error
    throw invalid('SYNCKIT_TRUST_PROXY', value, `${error.message} (${TRUST_PROXY_EXPECTED})`)
  }
  return trust
}

function invalid(setting: string, value: string, expected: string): ConfigError {
  return new ConfigError(setting, `Invalid ${setting} "${value}": ${expected}`)
}
