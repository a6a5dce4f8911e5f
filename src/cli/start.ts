import { randomBytes } from 'node:crypto'
import { pino } from 'pino'
import pretty from 'pino-pretty'
import { attachWebSocketServer } from '../../adapters/ws.js'
import type { Broker } from '../cluster/broker.js'
import { createSyncServer, VERSION } from '../server/index.js'
import type { Logger } from '../server/logger.js'
import type { StaticFiles } from '../server/static-files.js'
import { isValidNodeId, NODE_ID_RULE } from '../storage/codec.js'
import type { DocumentStore } from '../storage/store.js'
import { loadDemoFiles, loadInspectorFiles } from '../web/demo-files.js'
import { attachWebhooks, registerWebhookMetrics, type WebhookDispatcher } from '../webhooks/index.js'
import { type CliCommand, type CliIo, type CommandResult, messageOf, report } from './command.js'
import { type CliConfig, configFromEnv, HELP_TEXT } from './config.js'
import { describeStorage, openStore } from './store.js'

const FORCE_EXIT_MS = 10_000

/** `synckit-engine [start]`: the standalone server, configured from SyncKit's environment variables. */
export const startCommand: CliCommand = {
  name: 'start',
  async run(argv, io) {
    const config = configFromEnv(io.env, argv)
    if (config.help) {
      io.stdout.write(HELP_TEXT)
      return 0
    }
    return serve(config, io)
  },
}

async function serve(config: CliConfig, io: CliIo): Promise<CommandResult> {
  const nodeId = config.server.nodeId ?? `node-${randomBytes(6).toString('hex')}`
  if (!isValidNodeId(nodeId)) {
    report(io, `Invalid SYNCKIT_NODE_ID "${nodeId}": expected ${NODE_ID_RULE}`)
    return 1
  }
  let store: DocumentStore | undefined
  let broker: Broker | undefined
  try {
    store = await openStore(config, 'write', (message) => io.stdout.write(`synckit-engine: ${message}\n`))
    if (config.redisUrl) {
      // Loaded only when used: ioredis alone is a third of the CLI's import time.
      const { createRedisBroker } = await import('../../adapters/redis.js')
      broker = createRedisBroker({
        url: config.redisUrl,
        nodeId,
        ...(config.redisPrefix === undefined ? {} : { prefix: config.redisPrefix }),
      })
    }
  } catch (error) {
    await store?.close?.()
    report(io, `cannot open storage ${describeStorage(config)}: ${messageOf(error)}`)
    return 1
  }
  const logger = createLogger(config, nodeId)
  const staticFiles = await webFilesFor(config, logger)
  const server = createSyncServer({
    ...config.server,
    nodeId,
    logger,
    ...(store ? { store } : {}),
    ...(broker ? { broker } : {}),
    ...(staticFiles ? { http: { ...config.server.http, staticFiles, inspector: config.inspector } } : {}),
  })
  const webhooks = config.webhooks
    ? attachWebhooks(server, { endpoints: config.webhooks, logger })
    : undefined
  if (webhooks) registerWebhookMetrics(server, () => webhooks.stats())
  const transport = await attachWebSocketServer(server, { port: config.port, host: config.host })
  const served = {
    demo: config.demo && staticFiles !== undefined,
    inspector: config.inspector && staticFiles !== undefined,
  }
  io.stdout.write(banner({ ...config, ...served }, transport.port))

  let stopping = false
  const shutdown = (signal: string): void => {
    if (stopping) {
      report(io, `${signal} again, exiting now`)
      process.exit(1)
    }
    stopping = true
    io.stdout.write(`synckit-engine: ${signal} received, shutting down\n`)
    const force = setTimeout(() => {
      report(io, `shutdown did not finish within ${FORCE_EXIT_MS / 1000} s, exiting`)
      process.exit(1)
    }, FORCE_EXIT_MS)
    force.unref()
    stop(server, transport, webhooks).then(
      () => process.exit(0),
      (error: unknown) => {
        report(io, `shutdown failed: ${messageOf(error)}`)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  return 'serving'
}

/**
 * The server first: it stops accepting, flushes the last writes (their change events included),
 * waits for the store and closes the sockets (1001). Then the listener, and the webhooks, which
 * deliver what those last changes queued within their `closeTimeoutMs` (5 s).
 */
async function stop(
  server: { close(): Promise<void> },
  transport: { close(): Promise<void> },
  webhooks: WebhookDispatcher | undefined,
): Promise<void> {
  await server.close()
  await Promise.all([transport.close(), webhooks?.close()])
}

/** pino: JSON lines in production (for a log pipeline), readable lines otherwise (pino-pretty). */
/**
 * The pages' files: the demo's (with the inspector's) when the demo is on, the inspector's alone
 * with `--inspector`. Development mode turns the demo on by default, so there a build without the
 * files (a bundle of the CLI alone) serves the API and says why; asked for outside development
 * mode (`--demo`, `--inspector`), missing files stop the start.
 */
export async function webFilesFor(
  config: Pick<CliConfig, 'demo' | 'inspector' | 'mode'>,
  logger: Logger,
  load: () => Promise<StaticFiles> = config.demo ? loadDemoFiles : loadInspectorFiles,
): Promise<StaticFiles | undefined> {
  if (!config.demo && !config.inspector) return undefined
  try {
    return await load()
  } catch (error) {
    if (config.mode !== 'development') throw error
    logger.warn(
      { err: error },
      `${config.demo ? 'demo' : 'inspector'} page not served: its files are missing`,
    )
    return undefined
  }
}

function createLogger(config: CliConfig, nodeId: string): Logger {
  const options = { level: config.logLevel, base: { nodeId } }
  if (config.mode === 'production') return pino(options)
  return pino(options, pretty({ colorize: process.stdout.isTTY === true, ignore: 'pid,hostname' }))
}

function banner(config: CliConfig, port: number): string {
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
    `  REST API   ${config.server.rest ? `http://${host}:${port}/v1/documents` : 'off (--rest or SYNCKIT_REST=true serves it)'}`,
    ...(config.demo ? [`  Demo       http://${host}:${port}/   (open it in two windows)`] : []),
    ...(config.inspector
      ? [
          `  Inspector  http://${host}:${port}/inspector   (${config.anonymous ? 'open: anonymous mode' : 'admin token or API key'})`,
        ]
      : []),
    `  Storage    ${config.storage === 'memory' ? 'memory (documents are lost on restart)' : describeStorage(config)}`,
    `  Auth       ${config.anonymous ? 'anonymous' : 'required (JWT / API key)'}`,
    ...(config.webhooks ?? []).map((endpoint) => `  Webhooks   ${webhookTarget(endpoint.url)}`),
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
  return `${lines.join('\n')}\n`
}

/** A receiver URL without its credentials or query (either may hold a token). */
function webhookTarget(url: string): string {
  const parsed = new URL(url)
  return `${parsed.origin}${parsed.pathname}`
}
