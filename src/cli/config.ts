import { AuthConfigError, authConfigFromEnv, createAuthenticator, type EnvAuthConfig } from '../auth/index.js'
import { compileTrustProxy, TRUST_PROXY_EXPECTED, TrustProxyError } from '../server/client-ip.js'
import { originPolicy } from '../server/door.js'
import { checkMetricsToken } from '../server/http.js'
import type { SyncServerOptions, TrustProxy } from '../server/options.js'
import { isValidNodeId, NODE_ID_RULE } from '../storage/codec.js'
import { WebhookConfigError, type WebhookEndpoint, webhooksFromEnv } from '../webhooks/config.js'
import { ConfigError, parseCommandLine } from './args.js'
import {
  STORE_ENV_HELP,
  STORE_OPTIONS,
  STORE_OPTIONS_HELP,
  type StoreConfig,
  storeConfigFromEnv,
} from './store.js'
import { boolean, checkUrl, type Env, envReader, integer, invalid, optionalInteger } from './values.js'

/**
 * Configuration of `synckit-engine start` (the standalone server) from SyncKit's environment
 * variables and command-line flags; flags win over the environment, the environment over the
 * defaults. Every bad value is refused at startup with a message naming the setting, never
 * silently replaced by a default.
 */

export { ConfigError }

export type RunMode = 'development' | 'production' | 'test'

export interface CliConfig extends StoreConfig {
  server: SyncServerOptions
  port: number
  host: string
  mode: RunMode
  /** `--help` was given: print HELP_TEXT and exit (nothing else was validated). */
  help: boolean
  /** Anonymous mode: every connection is authenticated on open. */
  anonymous: boolean
  /** Serve the demo page at `/` to browsers: in development mode, or with `--demo`. */
  demo: boolean
  /** Serve the inspector at `/inspector` (admins only): with the demo, or with `--inspector`. */
  inspector: boolean
  redisUrl?: string
  /** `REDIS_CHANNEL_PREFIX`: prefix of the broker's Redis channels (default `synckit:`). */
  redisPrefix?: string
  /** `LOG_LEVEL`: pino level of the CLI's logger (default `info`). */
  logLevel: CliLogLevel
  /** `SYNCKIT_WEBHOOK_URL` / `_SECRET` / `_EVENTS`: where signed webhooks go (absent: none). */
  webhooks?: WebhookEndpoint[]
}

/** pino's levels. */
export type CliLogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'
const LOG_LEVELS: readonly CliLogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']

/** The commands `synckit-engine --help` lists (each has its own `--help`). */
export const COMMANDS_HELP = `Usage: synckit-engine [start] [options]       Run the server (the default command)
       synckit-engine export [--out FILE]     Write every document to a backup (JSON lines)
       synckit-engine import FILE             Restore a backup; FILE - reads stdin
       synckit-engine import --from-synckit postgres://...
                                              Copy a SyncKit server's database
       synckit-engine docs list|get|set|delete|presence ...
                                              Documents of a running server, over its REST API
       synckit-engine <command> --help        The options of a command
`

export const HELP_TEXT = `synckit-engine: a real-time sync server speaking the SyncKit wire protocol

${COMMANDS_HELP}
Options of start:
  --port <n>         Port to listen on (env PORT, default 8080; 0 picks a free port)
  --host <addr>      Address to bind (env HOST). Default 127.0.0.1 (this machine only) in
                     development and test mode, 0.0.0.0 (every interface) in production;
                     HOST=0.0.0.0 exposes a development server
${STORE_OPTIONS_HELP}  --demo             Serve the collaborative demo at / to browsers, and the inspector (always on
                     in development mode)
  --inspector        Serve the inspector at /inspector: documents, stamps, live charts, actions;
                     admin tokens or API keys only (open in anonymous mode). On with the demo
  --rest             Serve the REST API (/v1/documents, docs/rest.md) on an anonymous server too
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
${STORE_ENV_HELP}  REDIS_URL                         redis:// URL for multi-node fan-out
  REDIS_CHANNEL_PREFIX              Prefix of the Redis channels (default synckit:); nodes of one
                                    cluster share it, other deployments on the same Redis use another
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
                                    403. Default: every origin
  SYNCKIT_REST                      true | false: serve the REST API at /v1 (listing and deleting need
                                    an admin). Default: true when authentication is required, false
                                    for an anonymous server (then --rest or SYNCKIT_REST=true)
  SYNCKIT_WEBHOOK_URL               http(s):// URL that receives signed webhooks (POST, Standard
                                    Webhooks) after every change; needs SYNCKIT_WEBHOOK_SECRET
  SYNCKIT_WEBHOOK_SECRET            Signing secret: whsec_ and 24 to 64 random bytes in base64
  SYNCKIT_WEBHOOK_EVENTS            Comma-separated: document.changed, document.deleted,
                                    presence.changed (default document.changed,document.deleted)
`

const START_OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  ...STORE_OPTIONS,
  demo: { type: 'boolean' },
  rest: { type: 'boolean' },
  inspector: { type: 'boolean' },
} as const

/**
 * Reads the configuration of `start`. `argv` is the arguments after the command
 * (`process.argv.slice(2)` without `start`); flags win over the environment. Throws `ConfigError`.
 */
export function configFromEnv(env: Env, argv: readonly string[] = []): CliConfig {
  const { help, options: flags } = parseCommandLine(argv, START_OPTIONS)
  if (help) return helpOnly()
  const read = envReader(env)
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
  const store = storeConfigFromEnv(read, flags)
  const redisUrl = read('REDIS_URL')
  if (redisUrl !== undefined)
    checkUrl('REDIS_URL', redisUrl, ['redis:', 'rediss:'], 'a redis:// or rediss:// URL')

  const redisPrefix = read('REDIS_CHANNEL_PREFIX')
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (redisPrefix !== undefined && !/^[^\s\u0000-\u001f\u007f]{1,128}$/.test(redisPrefix)) {
    throw invalid(
      'REDIS_CHANNEL_PREFIX',
      redisPrefix,
      'expected 1-128 characters without spaces or control characters',
    )
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

  // The REST API can delete every document: on with authentication, asked for otherwise.
  const rest =
    flags.rest === true || (boolean('SYNCKIT_REST', read('SYNCKIT_REST')) ?? server.auth?.required !== false)
  if (rest) server.rest = true

  const logLevel = read('LOG_LEVEL')?.toLowerCase() ?? 'info'
  if (!LOG_LEVELS.includes(logLevel as CliLogLevel)) {
    throw invalid('LOG_LEVEL', logLevel, `expected one of ${LOG_LEVELS.join(', ')}`)
  }
  const webhooks = webhookEndpoints(env)
  const config: CliConfig = {
    server,
    port,
    host,
    ...store,
    mode,
    help: false,
    anonymous: server.auth?.required === false,
    logLevel: logLevel as CliLogLevel,
    demo: flags.demo === true || mode === 'development',
    inspector: flags.inspector === true || flags.demo === true || mode === 'development',
  }
  if (redisUrl !== undefined) config.redisUrl = redisUrl
  if (redisPrefix !== undefined) config.redisPrefix = redisPrefix
  if (webhooks.length > 0) config.webhooks = webhooks
  return config
}

/** `SYNCKIT_WEBHOOK_*` through the webhooks module's own reader, errors named like the others. */
function webhookEndpoints(env: Env): WebhookEndpoint[] {
  try {
    return webhooksFromEnv(env)
  } catch (error) {
    if (error instanceof WebhookConfigError) throw new ConfigError(error.setting, error.message)
    throw error
  }
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
    inspector: false,
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
