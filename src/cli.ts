#!/usr/bin/env node
/**
 * `synckit-engine` / `npm start`: a standalone sync server configured from SyncKit's environment
 * variables and a few flags (see `--help`).
 */
import { randomBytes } from 'node:crypto'
import { pino } from 'pino'
import pretty from 'pino-pretty'
import { createPostgresStore } from '../adapters/postgres.js'
import { createRedisBroker } from '../adapters/redis.js'
import { attachWebSocketServer } from '../adapters/ws.js'
import type { Broker } from './cluster/broker.js'
import { type CliConfig, ConfigError, configFromEnv, HELP_TEXT } from './server/config.js'
import { createSyncServer, VERSION } from './server/index.js'
import type { Logger } from './server/logger.js'
import { isValidNodeId, NODE_ID_RULE } from './storage/codec.js'
import { createPgliteStore } from './storage/pglite.js'
import { createSqliteStore } from './storage/sqlite.js'
import type { DocumentStore } from './storage/store.js'
import { loadDemoFiles } from './web/demo-files.js'

const FORCE_EXIT_MS = 10_000

async function main(): Promise<void> {
  let config: CliConfig
  try {
    config = configFromEnv(process.env, process.argv.slice(2))
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(`synckit-engine: ${error.message}`)
    process.exit(1)
  }
  if (config.help) {
    process.stdout.write(HELP_TEXT)
    return
  }

  const nodeId = config.server.nodeId ?? `node-${randomBytes(6).toString('hex')}`
  if (!isValidNodeId(nodeId)) {
    console.error(`synckit-engine: Invalid SYNCKIT_NODE_ID "${nodeId}": expected ${NODE_ID_RULE}`)
    process.exit(1)
  }
  let store: DocumentStore | undefined
  let broker: Broker | undefined
  try {
    store = await createStore(config)
    broker = config.redisUrl
      ? createRedisBroker({
          url: config.redisUrl,
          nodeId,
          ...(config.redisPrefix === undefined ? {} : { prefix: config.redisPrefix }),
        })
      : undefined
  } catch (error) {
    console.error(`synckit-engine: cannot open storage ${describeStorage(config)}: ${messageOf(error)}`)
    process.exit(1)
  }
  const staticFiles = config.demo ? await loadDemoFiles() : undefined
  const server = createSyncServer({
    ...config.server,
    nodeId,
    logger: createLogger(config, nodeId),
    ...(store ? { store } : {}),
    ...(broker ? { broker } : {}),
    ...(staticFiles ? { http: { ...config.server.http, staticFiles } } : {}),
  })
  const transport = await attachWebSocketServer(server, { port: config.port, host: config.host })
  printBanner(config, transport.port)

  let stopping = false
  const shutdown = (signal: string): void => {
    if (stopping) {
      console.error(`synckit-engine: ${signal} again, exiting now`)
      process.exit(1)
    }
    stopping = true
    console.log(`synckit-engine: ${signal} received, shutting down`)
    const force = setTimeout(() => {
      console.error(`synckit-engine: shutdown did not finish within ${FORCE_EXIT_MS / 1000} s, exiting`)
      process.exit(1)
    }, FORCE_EXIT_MS)
    force.unref()
    // The server first: it flushes, waits for the store and closes sockets (1001); then the listener.
    server
      .close()
      .then(() => transport.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          console.error('synckit-engine: shutdown failed:', error)
          process.exit(1)
        },
      )
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
}

/** pino: JSON lines in production (for a log pipeline), readable lines otherwise (pino-pretty). */
function createLogger(config: CliConfig, nodeId: string): Logger {
  const options = { level: config.logLevel, base: { nodeId } }
  if (config.mode === 'production') return pino(options)
  return pino(options, pretty({ colorize: process.stdout.isTTY === true, ignore: 'pid,hostname' }))
}

/**
 * `embedded`: SQLite in the data directory (the default; a PGlite directory is migrated to it),
 * `pglite`, a postgres:// URL, or `memory`. Embedded stores lock the directory to this process.
 */
async function createStore(config: CliConfig): Promise<DocumentStore | undefined> {
  if (config.storage === 'memory') return undefined
  const schema = config.pgSchema === undefined ? {} : { schema: config.pgSchema }
  if (config.storage === 'embedded') {
    return createSqliteStore({
      dataDir: config.dataDir,
      ...(config.pgSchema === undefined ? {} : { pgliteSchema: config.pgSchema }),
      ...(config.sqliteSynchronous === undefined ? {} : { synchronous: config.sqliteSynchronous }),
      log: (message) => console.log(`synckit-engine: ${message}`),
    })
  }
  if (config.storage === 'pglite') return createPgliteStore({ dataDir: config.dataDir, ...schema })
  return createPostgresStore({ url: config.storage, ...schema })
}

function describeStorage(config: CliConfig): string {
  if (config.storage === 'memory') return 'memory'
  if (config.storage === 'embedded') return `embedded (SQLite in ${config.dataDir})`
  if (config.storage === 'pglite') return `embedded (PGlite in ${config.dataDir})`
  // Never print a password that came with the URL.
  return config.storage.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@')
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function printBanner(config: CliConfig, port: number): void {
  const wildcard = config.host === '0.0.0.0' || config.host === '::'
  const host = wildcard ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host
  const ws = `ws://${host}:${port}/ws`
  const loopback = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(config.host)
  const metricsOpen = config.server.http?.metricsToken === undefined
  const lines = [
    `synckit-engine ${VERSION} (${config.mode})`,
    `  WebSocket  ${ws}${wildcard ? `   (listening on ${config.host}:${port})` : ''}`,
    `  Health     http://${host}:${port}/health`,
    `  Metrics    http://${host}:${port}/metrics${metricsOpen ? '   (open: SYNCKIT_METRICS_TOKEN protects it)' : '   (bearer token required)'}`,
    ...(config.demo ? [`  Demo       http://${host}:${port}/   (open it in two windows)`] : []),
    `  Storage    ${config.storage === 'memory' ? 'memory (documents are lost on restart)' : describeStorage(config)}`,
    `  Auth       ${config.anonymous ? 'anonymous' : 'required (JWT / API key)'}`,
  ]
  if (loopback) {
    lines.push(`  Reachable from this machine only. To accept other machines, set HOST=0.0.0.0 (or --host).`)
  }
  if (config.anonymous) {
    lines.push(
      '',
      `  !!! ANONYMOUS ACCESS IS ENABLED: anyone who can reach ${ws} can read and write every document.`,
      '  !!! Set SYNCKIT_AUTH_REQUIRED=true and JWT_SECRET before exposing this server.',
    )
  }
  lines.push(
    '',
    'Connect:',
    "  import { createSyncClient } from 'synckit-engine/client'",
    `  const client = createSyncClient({ url: '${ws}' })`,
    "  await client.connect(); await client.set('my-doc', 'title', 'Hello')",
    '',
  )
  console.log(lines.join('\n'))
}

main().catch((error: unknown) => {
  console.error('synckit-engine: failed to start:', error)
  process.exit(1)
})
