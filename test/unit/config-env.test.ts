import { describe, expect, it } from 'vitest'
import { ConfigError, configFromEnv, HELP_TEXT } from '../../src/cli/config.js'

const SECRET = 's'.repeat(32)

/** The ConfigError thrown for this env/argv (fails the test when none is). */
function errorOf(env: Record<string, string | undefined>, argv: string[] = []): ConfigError {
  try {
    configFromEnv(env, argv)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('configFromEnv: defaults', () => {
  it('development, anonymous, 127.0.0.1:8080, embedded storage, ./synckit-data', () => {
    const config = configFromEnv({})
    expect(config).toEqual({
      server: { auth: { required: false } },
      port: 8080,
      host: '127.0.0.1',
      storage: 'embedded',
      dataDir: './synckit-data',
      mode: 'development',
      help: false,
      anonymous: true,
      logLevel: 'info',
      demo: true,
      inspector: true,
    })
  })

  it('test mode is anonymous by default too; empty values count as unset', () => {
    const config = configFromEnv({ NODE_ENV: 'test', PORT: '', SYNCKIT_AUTH_REQUIRED: '  ' })
    expect(config.mode).toBe('test')
    expect(config.port).toBe(8080)
    expect(config.anonymous).toBe(true)
    expect(config.host).toBe('127.0.0.1')
  })

  it('binds every interface only in production, or when HOST / --host says so', () => {
    expect(configFromEnv({ NODE_ENV: 'production', JWT_SECRET: SECRET }).host).toBe('0.0.0.0')
    // Explicitly anonymous production stays reachable: the operator asked for it.
    expect(configFromEnv({ NODE_ENV: 'production', SYNCKIT_AUTH_REQUIRED: 'false' }).host).toBe('0.0.0.0')
    // Development with authentication still defaults to loopback: it is a development server.
    expect(configFromEnv({ JWT_SECRET: SECRET }).host).toBe('127.0.0.1')
    expect(configFromEnv({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0')
    expect(configFromEnv({}, ['--host', '::']).host).toBe('::')
  })

  it('serves the demo in development mode only, or anywhere with --demo', () => {
    expect(configFromEnv({ NODE_ENV: 'development' }).demo).toBe(true)
    expect(configFromEnv({ NODE_ENV: 'test' }).demo).toBe(false)
    expect(configFromEnv({ NODE_ENV: 'production', SYNCKIT_AUTH_REQUIRED: 'false' }).demo).toBe(false)
    expect(configFromEnv({ NODE_ENV: 'test' }, ['--demo']).demo).toBe(true)
    expect(configFromEnv({ NODE_ENV: 'production', SYNCKIT_AUTH_REQUIRED: 'false' }, ['--demo']).demo).toBe(
      true,
    )
  })

  it('serves the inspector with the demo, or alone with --inspector', () => {
    const production = { NODE_ENV: 'production', JWT_SECRET: SECRET }
    expect(configFromEnv({ NODE_ENV: 'development' }).inspector).toBe(true)
    expect(configFromEnv(production).inspector).toBe(false)
    expect(configFromEnv(production, ['--demo']).inspector).toBe(true)
    const alone = configFromEnv(production, ['--inspector'])
    expect([alone.inspector, alone.demo]).toEqual([true, false])
  })
})

describe('configFromEnv: settings', () => {
  it('maps every SyncKit variable onto the server options', () => {
    const config = configFromEnv({
      NODE_ENV: 'production',
      PORT: '9000',
      HOST: '127.0.0.1',
      JWT_SECRET: SECRET,
      WS_MAX_CONNECTIONS: '20000',
      SYNCKIT_MAX_CONNECTIONS_PER_IP: '2000',
      SYNCKIT_MAX_MESSAGES_PER_MINUTE: '6000',
      WS_HEARTBEAT_INTERVAL: '15000',
      DATABASE_URL: 'postgres://u:p@db:5432/sync',
      REDIS_URL: 'redis://cache:6379',
      SYNCKIT_DATA_DIR: '/var/lib/synckit',
      SYNCKIT_TRUST_PROXY: 'true',
      SYNCKIT_NODE_ID: 'node-a',
      SYNCKIT_EXPOSE_DOCUMENT_IDS: 'false',
      SYNCKIT_METRICS_TOKEN: 'mon_0123456789abcdef',
    })
    expect(config).toMatchObject({
      port: 9000,
      host: '127.0.0.1',
      storage: 'postgres://u:p@db:5432/sync',
      dataDir: '/var/lib/synckit',
      mode: 'production',
      redisUrl: 'redis://cache:6379',
      anonymous: false,
    })
    const { auth, ...rest } = config.server
    expect(rest).toEqual({
      nodeId: 'node-a',
      maxConnections: 20000,
      maxConnectionsPerIp: 2000,
      maxMessagesPerMinute: 6000,
      heartbeat: { intervalMs: 15000 },
      trustProxy: true,
      http: { exposeDocumentIds: false, metricsToken: 'mon_0123456789abcdef' },
      // Authentication is required: the REST API is served.
      rest: true,
    })
    expect(auth?.required).toBe(true)
    expect(typeof auth?.verifyCredentials).toBe('function')
  })

  it('serves the REST API when auth is required, or when asked; never unasked on an anonymous server', () => {
    const rest = (env: Record<string, string>, argv: string[] = []) => configFromEnv(env, argv).server.rest
    expect(rest({})).toBeUndefined()
    expect(rest({ NODE_ENV: 'production', SYNCKIT_AUTH_REQUIRED: 'false' })).toBeUndefined()
    expect(rest({}, ['--rest'])).toBe(true)
    expect(rest({ SYNCKIT_REST: 'true' })).toBe(true)
    expect(rest({ JWT_SECRET: SECRET, SYNCKIT_AUTH_REQUIRED: 'true' })).toBe(true)
    expect(rest({ NODE_ENV: 'production', JWT_SECRET: SECRET })).toBe(true)
    expect(rest({ NODE_ENV: 'production', JWT_SECRET: SECRET, SYNCKIT_REST: 'false' })).toBeUndefined()
    expect(rest({ SYNCKIT_REST: 'false' }, ['--rest'])).toBe(true)
    expect(errorOf({ SYNCKIT_REST: 'maybe' }).message).toBe(
      'Invalid SYNCKIT_REST "maybe": expected true or false',
    )
  })

  it('flags win over the environment, in both --flag value and --flag=value forms', () => {
    const config = configFromEnv({ PORT: '9000', HOST: 'example.com', DATABASE_URL: 'postgres://db/x' }, [
      '--port',
      '0',
      '--host=127.0.0.1',
      '--storage',
      'memory',
      '--data=/tmp/d',
    ])
    expect(config).toMatchObject({ port: 0, host: '127.0.0.1', storage: 'memory', dataDir: '/tmp/d' })
    expect(configFromEnv({}, ['--storage', 'postgresql://h/db']).storage).toBe('postgresql://h/db')
    expect(configFromEnv({}, ['--storage', 'pglite']).storage).toBe('pglite')
    expect(configFromEnv({ SYNCKIT_SQLITE_SYNCHRONOUS: 'FULL' }).sqliteSynchronous).toBe('full')
    expect(configFromEnv({}).sqliteSynchronous).toBeUndefined()
    expect(configFromEnv({}, ['--host', '[::1]']).host).toBe('::1')
  })

  it('SYNCKIT_TRUST_PROXY takes true/false, a number of hops, or a list of addresses and CIDR ranges', () => {
    const trust = (value: string) => configFromEnv({ SYNCKIT_TRUST_PROXY: value }).server.trustProxy
    expect(trust('true')).toBe(true)
    expect(trust('FALSE')).toBe(false)
    expect(trust('0')).toBe(0)
    expect(trust('1')).toBe(1)
    expect(trust('2')).toBe(2)
    expect(trust('10.0.0.1')).toEqual(['10.0.0.1'])
    expect(trust(' 10.0.0.0/8 , fd00::/8,loopback ')).toEqual(['10.0.0.0/8', 'fd00::/8', 'loopback'])
    expect('trustProxy' in configFromEnv({}).server).toBe(false)
  })

  it('SYNCKIT_METRICS_TOKEN protects /metrics and the detailed /health', () => {
    const config = configFromEnv({ SYNCKIT_METRICS_TOKEN: 'mon_0123456789abcdef' })
    expect(config.server.http).toEqual({ metricsToken: 'mon_0123456789abcdef' })
    expect('http' in configFromEnv({}).server).toBe(false)
  })

  it('SYNCKIT_AUTH_REQUIRED accepts true/false (and 1/0, any case)', () => {
    expect(configFromEnv({ SYNCKIT_AUTH_REQUIRED: 'FALSE', NODE_ENV: 'production' }).anonymous).toBe(true)
    expect(configFromEnv({ SYNCKIT_AUTH_REQUIRED: '0' }).anonymous).toBe(true)
    const required = configFromEnv({ SYNCKIT_AUTH_REQUIRED: 'true', JWT_SECRET: SECRET })
    expect(required.anonymous).toBe(false)
    expect(required.server.auth?.required).toBe(true)
  })

  it('wires API keys as a credential source', () => {
    const config = configFromEnv({ NODE_ENV: 'production', SYNCKIT_AUTH_APIKEYS: 'ops:sk_ops_0123456789' })
    expect(typeof config.server.auth?.verifyCredentials).toBe('function')
  })

  it('SYNCKIT_PG_SCHEMA and REDIS_CHANNEL_PREFIX select the SQL schema and the Redis channel prefix', () => {
    const config = configFromEnv({
      DATABASE_URL: 'postgres://db/x',
      REDIS_URL: 'redis://cache:6379',
      SYNCKIT_PG_SCHEMA: 'synckit_eu',
      REDIS_CHANNEL_PREFIX: 'app1:',
    })
    expect(config).toMatchObject({ pgSchema: 'synckit_eu', redisPrefix: 'app1:' })
    const defaults = configFromEnv({})
    expect('pgSchema' in defaults).toBe(false)
    expect('redisPrefix' in defaults).toBe(false)
  })

  it('takes the last of a repeated flag, and arguments after -- as arguments', () => {
    expect(configFromEnv({}, ['--port', '1', '--port=2']).port).toBe(2)
    expect(() => configFromEnv({}, ['--', '--port'])).toThrow('Unexpected argument "--port" (see --help)')
  })

  it('SYNCKIT_WEBHOOK_URL / _SECRET / _EVENTS configure one webhook endpoint', () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`
    const config = configFromEnv({
      SYNCKIT_WEBHOOK_URL: 'https://hooks.example/sync',
      SYNCKIT_WEBHOOK_SECRET: secret,
      SYNCKIT_WEBHOOK_EVENTS: 'document.changed,presence.changed',
    })
    expect(config.webhooks).toEqual([
      { url: 'https://hooks.example/sync', secret, events: ['document.changed', 'presence.changed'] },
    ])
    expect('webhooks' in configFromEnv({})).toBe(false)
  })

  it('--help skips validation of everything else', () => {
    const config = configFromEnv({ PORT: 'abc', NODE_ENV: 'production' }, ['--port', 'x', '--help'])
    expect(config.help).toBe(true)
    expect(configFromEnv({}, ['-h']).help).toBe(true)
  })

  it('HELP_TEXT lists every option and variable', () => {
    for (const name of [
      '--port',
      '--host',
      '--storage',
      '--data',
      '--help',
      'NODE_ENV',
      'PORT',
      'HOST',
      'SYNCKIT_AUTH_REQUIRED',
      'JWT_SECRET',
      'WS_MAX_CONNECTIONS',
      'SYNCKIT_MAX_CONNECTIONS_PER_IP',
      'SYNCKIT_MAX_MESSAGES_PER_MINUTE',
      'WS_HEARTBEAT_INTERVAL',
      'DATABASE_URL',
      'REDIS_URL',
      'SYNCKIT_DATA_DIR',
      'SYNCKIT_TRUST_PROXY',
      'SYNCKIT_METRICS_TOKEN',
      'SYNCKIT_NODE_ID',
      'SYNCKIT_EXPOSE_DOCUMENT_IDS',
      'SYNCKIT_PG_SCHEMA',
      'REDIS_CHANNEL_PREFIX',
      'SYNCKIT_WEBHOOK_URL',
      'SYNCKIT_WEBHOOK_SECRET',
      'SYNCKIT_WEBHOOK_EVENTS',
      'export',
      'import',
      '--from-synckit',
    ]) {
      expect(HELP_TEXT).toContain(name)
    }
  })
})

describe('configFromEnv: errors name the setting and the bad value', () => {
  const cases: Array<[string, Record<string, string>, string[], string, string]> = [
    [
      'PORT not a number',
      { PORT: 'abc' },
      [],
      'PORT',
      'Invalid PORT "abc": expected an integer between 0 and 65535',
    ],
    [
      'PORT too big',
      { PORT: '70000' },
      [],
      'PORT',
      'Invalid PORT "70000": expected an integer between 0 and 65535',
    ],
    [
      'PORT negative',
      { PORT: '-1' },
      [],
      'PORT',
      'Invalid PORT "-1": expected an integer between 0 and 65535',
    ],
    [
      '--port',
      {},
      ['--port', '1.5'],
      '--port',
      'Invalid --port "1.5": expected an integer between 0 and 65535',
    ],
    ['HOST', { HOST: 'a b' }, [], 'HOST', 'Invalid HOST "a b": expected a hostname or IP address'],
    [
      'NODE_ENV',
      { NODE_ENV: 'staging' },
      [],
      'NODE_ENV',
      'Invalid NODE_ENV "staging": expected one of development, production, test',
    ],
    [
      'SYNCKIT_AUTH_REQUIRED',
      { SYNCKIT_AUTH_REQUIRED: 'yes' },
      [],
      'SYNCKIT_AUTH_REQUIRED',
      'Invalid SYNCKIT_AUTH_REQUIRED "yes": expected true or false',
    ],
    [
      'JWT_SECRET too short (value not echoed)',
      { JWT_SECRET: 'short-secret' },
      [],
      'JWT_SECRET',
      'Invalid JWT_SECRET: expected at least 32 characters (got 12)',
    ],
    [
      'WS_MAX_CONNECTIONS',
      { WS_MAX_CONNECTIONS: '0' },
      [],
      'WS_MAX_CONNECTIONS',
      'Invalid WS_MAX_CONNECTIONS "0": expected a positive integer',
    ],
    [
      'SYNCKIT_MAX_CONNECTIONS_PER_IP',
      { SYNCKIT_MAX_CONNECTIONS_PER_IP: 'many' },
      [],
      'SYNCKIT_MAX_CONNECTIONS_PER_IP',
      'Invalid SYNCKIT_MAX_CONNECTIONS_PER_IP "many": expected a positive integer',
    ],
    [
      'SYNCKIT_MAX_MESSAGES_PER_MINUTE',
      { SYNCKIT_MAX_MESSAGES_PER_MINUTE: '1e3' },
      [],
      'SYNCKIT_MAX_MESSAGES_PER_MINUTE',
      'Invalid SYNCKIT_MAX_MESSAGES_PER_MINUTE "1e3": expected a positive integer',
    ],
    [
      'WS_HEARTBEAT_INTERVAL',
      { WS_HEARTBEAT_INTERVAL: '10' },
      [],
      'WS_HEARTBEAT_INTERVAL',
      'Invalid WS_HEARTBEAT_INTERVAL "10": expected an integer between 100 and 86400000',
    ],
    [
      'DATABASE_URL (password redacted)',
      { DATABASE_URL: 'mysql://root:hunter2@db/x' },
      [],
      'DATABASE_URL',
      'Invalid DATABASE_URL "mysql://root:***@db/x": expected a postgres:// or postgresql:// URL',
    ],
    [
      'REDIS_URL',
      { REDIS_URL: 'localhost:6379' },
      [],
      'REDIS_URL',
      'Invalid REDIS_URL "localhost:6379": expected a redis:// or rediss:// URL',
    ],
    [
      '--storage',
      {},
      ['--storage', 'sqlite'],
      '--storage',
      'Invalid --storage "sqlite": expected "embedded", "pglite", "memory" or a postgres:// URL',
    ],
    [
      'SYNCKIT_SQLITE_SYNCHRONOUS',
      { SYNCKIT_SQLITE_SYNCHRONOUS: 'off' },
      [],
      'SYNCKIT_SQLITE_SYNCHRONOUS',
      'Invalid SYNCKIT_SQLITE_SYNCHRONOUS "off": expected normal or full',
    ],
    [
      'SYNCKIT_TRUST_PROXY',
      { SYNCKIT_TRUST_PROXY: 'maybe' },
      [],
      'SYNCKIT_TRUST_PROXY',
      'Invalid SYNCKIT_TRUST_PROXY "maybe": "maybe" is not an IP address or CIDR range (expected true, false, a number of proxy hops, or a comma-separated list of IP addresses, CIDR ranges, loopback, linklocal, uniquelocal)',
    ],
    [
      'SYNCKIT_TRUST_PROXY with a bad prefix length',
      { SYNCKIT_TRUST_PROXY: '10.0.0.1, 10.0.0.0/33' },
      [],
      'SYNCKIT_TRUST_PROXY',
      'Invalid SYNCKIT_TRUST_PROXY "10.0.0.1, 10.0.0.0/33": "10.0.0.0/33" has a prefix length over 32 (expected true, false, a number of proxy hops, or a comma-separated list of IP addresses, CIDR ranges, loopback, linklocal, uniquelocal)',
    ],
    [
      'SYNCKIT_TRUST_PROXY with an empty entry',
      { SYNCKIT_TRUST_PROXY: '10.0.0.1,,10.0.0.2' },
      [],
      'SYNCKIT_TRUST_PROXY',
      'Invalid SYNCKIT_TRUST_PROXY "10.0.0.1,,10.0.0.2": an entry is empty (expected true, false, a number of proxy hops, or a comma-separated list of IP addresses, CIDR ranges, loopback, linklocal, uniquelocal)',
    ],
    [
      'SYNCKIT_TRUST_PROXY negative',
      { SYNCKIT_TRUST_PROXY: '-1' },
      [],
      'SYNCKIT_TRUST_PROXY',
      'Invalid SYNCKIT_TRUST_PROXY "-1": "-1" is not an IP address or CIDR range (expected true, false, a number of proxy hops, or a comma-separated list of IP addresses, CIDR ranges, loopback, linklocal, uniquelocal)',
    ],
    [
      'SYNCKIT_METRICS_TOKEN too short (value not echoed)',
      { SYNCKIT_METRICS_TOKEN: 'short' },
      [],
      'SYNCKIT_METRICS_TOKEN',
      'Invalid SYNCKIT_METRICS_TOKEN: expected at least 16 characters (got 5)',
    ],
    [
      'SYNCKIT_METRICS_TOKEN with characters a header cannot carry (value not echoed)',
      { SYNCKIT_METRICS_TOKEN: 'secret token with spaces' },
      [],
      'SYNCKIT_METRICS_TOKEN',
      'Invalid SYNCKIT_METRICS_TOKEN: expected the characters A-Z a-z 0-9 - . _ ~ + / and trailing =',
    ],
    [
      'SYNCKIT_EXPOSE_DOCUMENT_IDS',
      { SYNCKIT_EXPOSE_DOCUMENT_IDS: 'on' },
      [],
      'SYNCKIT_EXPOSE_DOCUMENT_IDS',
      'Invalid SYNCKIT_EXPOSE_DOCUMENT_IDS "on": expected true or false',
    ],
    [
      'SYNCKIT_NODE_ID',
      { SYNCKIT_NODE_ID: 'node one' },
      [],
      'SYNCKIT_NODE_ID',
      'Invalid SYNCKIT_NODE_ID "node one": expected 1-128 characters of letters, digits, ".", "_", ":", "-"',
    ],
    [
      'SYNCKIT_PG_SCHEMA',
      { SYNCKIT_PG_SCHEMA: 'My-Schema' },
      [],
      'SYNCKIT_PG_SCHEMA',
      'Invalid SYNCKIT_PG_SCHEMA "My-Schema": expected a lower-case identifier of [a-z0-9_] (not starting with a digit), at most 63 characters',
    ],
    [
      'REDIS_CHANNEL_PREFIX',
      { REDIS_CHANNEL_PREFIX: 'a b' },
      [],
      'REDIS_CHANNEL_PREFIX',
      'Invalid REDIS_CHANNEL_PREFIX "a b": expected 1-128 characters without spaces or control characters',
    ],
    [
      'SYNCKIT_WEBHOOK_URL without a secret',
      { SYNCKIT_WEBHOOK_URL: 'https://hooks.example/x' },
      [],
      'SYNCKIT_WEBHOOK_SECRET',
      'SYNCKIT_WEBHOOK_URL is set without SYNCKIT_WEBHOOK_SECRET',
    ],
    [
      'SYNCKIT_WEBHOOK_SECRET malformed (value not echoed)',
      { SYNCKIT_WEBHOOK_URL: 'https://hooks.example/x', SYNCKIT_WEBHOOK_SECRET: 'hunter2' },
      [],
      'SYNCKIT_WEBHOOK_SECRET',
      'SYNCKIT_WEBHOOK_SECRET must be a string starting with "whsec_"',
    ],
    [
      'SYNCKIT_WEBHOOK_EVENTS',
      {
        SYNCKIT_WEBHOOK_URL: 'https://hooks.example/x',
        SYNCKIT_WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
        SYNCKIT_WEBHOOK_EVENTS: 'document.changed,doc.deleted',
      },
      [],
      'SYNCKIT_WEBHOOK_EVENTS',
      'SYNCKIT_WEBHOOK_EVENTS: unknown event "doc.deleted" (expected document.changed, document.deleted, presence.changed)',
    ],
    ['unknown flag', {}, ['--verbose'], '--verbose', 'Unknown option "--verbose" (see --help)'],
    ['positional argument', {}, ['serve'], 'serve', 'Unexpected argument "serve" (see --help)'],
    ['value given to a switch', {}, ['--demo=yes'], '--demo', 'Option --demo takes no value'],
    ['empty inline value', {}, ['--port='], '--port', 'Missing value for --port'],
    ['unknown short option', {}, ['-p', '80'], '-p', 'Unknown option "-p" (see --help)'],
    ['missing flag value', {}, ['--port'], '--port', 'Missing value for --port'],
    ['flag followed by a flag', {}, ['--host', '--port', '1'], '--host', 'Missing value for --host'],
  ]
  for (const [name, env, argv, setting, message] of cases) {
    it(name, () => {
      const error = errorOf(env, argv)
      expect(error.name).toBe('ConfigError')
      expect(error.setting).toBe(setting)
      expect(error.message).toBe(message)
    })
  }

  it('production without JWT_SECRET (and no explicit SYNCKIT_AUTH_REQUIRED=false) is refused', () => {
    const error = errorOf({ NODE_ENV: 'production' })
    expect(error.setting).toBe('JWT_SECRET')
    expect(error.message).toBe(
      'NODE_ENV=production requires authentication: set JWT_SECRET (at least 32 characters), JWT_PUBLIC_KEY, ' +
        'JWT_JWKS_URL or SYNCKIT_AUTH_APIKEYS, or SYNCKIT_AUTH_REQUIRED=false to allow anonymous access',
    )
  })

  it('SYNCKIT_AUTH_REQUIRED=true without any credential source is refused in every mode', () => {
    const error = errorOf({ SYNCKIT_AUTH_REQUIRED: 'true' })
    expect(error.setting).toBe('JWT_SECRET')
    expect(error.message).toMatch(
      /^SYNCKIT_AUTH_REQUIRED=true needs a way to verify credentials: set JWT_SECRET/,
    )
  })

  it('auth-layer errors are reported as ConfigErrors naming the variable', () => {
    const error = errorOf({ JWT_SECRET: SECRET, JWT_CLOCK_TOLERANCE: 'soon' })
    expect(error.setting).toBe('JWT_CLOCK_TOLERANCE')
    expect(error.message).toBe('Invalid JWT_CLOCK_TOLERANCE: must be whole seconds')
    const keys = errorOf({ SYNCKIT_AUTH_APIKEYS: 'short' })
    expect(keys.setting).toBe('SYNCKIT_AUTH_APIKEYS')
    expect(keys.message).toMatch(/^Invalid SYNCKIT_AUTH_APIKEYS: entry 1: /)
    expect(keys.message).not.toContain('"short"')
  })
  it('reads LOG_LEVEL and SYNCKIT_ALLOWED_ORIGINS, refusing bad values by name', () => {
    const config = configFromEnv({
      LOG_LEVEL: 'DEBUG',
      SYNCKIT_ALLOWED_ORIGINS: 'https://a.example, https://*.b.example',
    })
    expect(config.logLevel).toBe('debug')
    expect(config.server.allowedOrigins).toEqual(['https://a.example', 'https://*.b.example'])
    expect(configFromEnv({}).logLevel).toBe('info')
    expect(() => configFromEnv({ LOG_LEVEL: 'loud' })).toThrow(/Invalid LOG_LEVEL "loud"/)
    expect(() => configFromEnv({ SYNCKIT_ALLOWED_ORIGINS: 'a.example' })).toThrow(
      /Invalid SYNCKIT_ALLOWED_ORIGINS/,
    )
  })
})
