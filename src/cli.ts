#!/usr/bin/env node
/**
 * `synckit-engine` / `npm start`: a standalone sync server configured from SyncKit's environment
 * variables and a few flags (see `--help`).
 */
import { attachWebSocketServer } from '../adapters/ws.js'
import { type CliConfig, ConfigError, configFromEnv, HELP_TEXT } from './server/config.js'
import { createSyncServer, VERSION } from './server/index.js'
import type { DocumentStore } from './server/options.js'

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

  let store: DocumentStore | undefined
  try {
    store = createStore(config)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(`synckit-engine: ${error.message}`)
    process.exit(1)
  }
  const server = createSyncServer(store ? { ...config.server, store } : config.server)
  server.on('error', (error, context) => {
    console.error(
      `synckit-engine: ${context.operation} error${context.documentId ? ` (${context.documentId})` : ''}:`,
      error,
    )
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

/**
 * The storage seam. `memory` keeps the server's default in-memory store. The embedded PGlite
 * store (in `config.dataDir`) and Postgres (a `postgres://` URL) plug in here; until they do, a
 * configured database is refused rather than silently ignored (that would lose data on restart).
 */
function createStore(config: CliConfig): DocumentStore | undefined {
  if (config.storage === 'memory') return undefined
  const shown = config.storage.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@')
  throw new ConfigError(
    'DATABASE_URL',
    `Storage "${shown}" is not available from the CLI yet; use --storage memory (or unset DATABASE_URL)`,
  )
}

function printBanner(config: CliConfig, port: number): void {
  const wildcard = config.host === '0.0.0.0' || config.host === '::'
  const host = wildcard ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host
  const ws = `ws://${host}:${port}/ws`
  const lines = [
    `synckit-engine ${VERSION} (${config.mode})`,
    `  WebSocket  ${ws}${wildcard ? `   (listening on ${config.host}:${port})` : ''}`,
    `  Health     http://${host}:${port}/health`,
    `  Storage    ${config.storage === 'memory' ? 'memory (documents are lost on restart)' : config.storage}`,
    `  Auth       ${config.anonymous ? 'anonymous' : 'required (JWT / API key)'}`,
  ]
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
