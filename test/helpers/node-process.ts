import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { tcpReachable } from './services.js'
import { waitFor, within } from './wait-for.js'

/**
 * Child processes for multi-node tests: synckit-engine CLI nodes (`node --import tsx src/cli.ts`,
 * so a signal reaches the server itself, not an npx wrapper) and throwaway redis-servers.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface NodeProcess {
  readonly child: ChildProcess
  readonly nodeId: string
  readonly port: number
  /** `ws://127.0.0.1:<port>/ws` */
  readonly url: string
  /** `http://127.0.0.1:<port>` */
  readonly httpUrl: string
  stdout(): string
  stderr(): string
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exit: Promise<number | null>
  /** SIGKILL (no shutdown, no flush) and wait for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>
}

export interface StartNodeOptions {
  nodeId: string
  /** `--storage` value: a postgres:// URL, `embedded` or `memory`. */
  storage: string
  /** `--data` for the embedded store. */
  dataDir?: string
  env?: Record<string, string>
  /** Banner deadline. A fresh PGlite data directory runs initdb: allow tens of seconds. */
  startupTimeoutMs?: number
}

const live = new Set<ChildProcess>()

/** This process's environment in development mode, without any setting the CLI reads. */
export function cliEnvironment(): Record<string, string | undefined> {
  const base: Record<string, string | undefined> = { ...process.env, NODE_ENV: 'development' }
  for (const name of Object.keys(base)) {
    if (
      name.startsWith('SYNCKIT_') ||
      name.startsWith('JWT_') ||
      name.startsWith('REDIS_') ||
      name === 'DATABASE_URL'
    )
      delete base[name]
  }
  return base
}

/** A CLI process that has been spawned, not yet known to be serving. */
export interface SpawnedNode {
  readonly child: ChildProcess
  stdout(): string
  stderr(): string
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exit: Promise<number | null>
  /** Whether `exit` has resolved. */
  exited(): boolean
}

/**
 * Spawns a CLI node on a free port of 127.0.0.1 and returns at once (see `startNode` to wait for
 * its banner). For tests that expect the start to fail.
 */
export function spawnNode(options: StartNodeOptions): SpawnedNode {
  const base = cliEnvironment()
  const args = ['--import', 'tsx', 'src/cli.ts', '--port', '0', '--host', '127.0.0.1']
  args.push('--storage', options.storage)
  if (options.dataDir !== undefined) args.push('--data', options.dataDir)
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...base,
      SYNCKIT_AUTH_REQUIRED: 'false',
      SYNCKIT_NODE_ID: options.nodeId,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  live.add(child)
  let out = ''
  let err = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString()
  })
  let exited = false
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child)
      exited = true
      resolve(code)
    }),
  )
  return { child, stdout: () => out, stderr: () => err, exit, exited: () => exited }
}

/** Starts a CLI node on a free port of 127.0.0.1 and waits for its banner. */
export async function startNode(options: StartNodeOptions): Promise<NodeProcess> {
  const { child, stdout, stderr, exit, exited } = spawnNode(options)
  const match = await waitFor(
    () => {
      if (exited()) throw new Error(`node ${options.nodeId} exited at startup: ${stderr() || stdout()}`)
      return /ws:\/\/127\.0\.0\.1:(\d+)\/ws/.exec(stdout())
    },
    {
      timeoutMs: options.startupTimeoutMs ?? 30_000,
      intervalMs: 25,
      message: `node ${options.nodeId} banner (stdout: ${stdout()} stderr: ${stderr()})`,
    },
  ).catch(async (error: unknown) => {
    await killChild(child, exit)
    throw error
  })
  const port = Number(match[1])
  return {
    child,
    nodeId: options.nodeId,
    port,
    url: `ws://127.0.0.1:${port}/ws`,
    httpUrl: `http://127.0.0.1:${port}`,
    stdout,
    stderr,
    exit,
    kill: (signal: NodeJS.Signals = 'SIGKILL') => killChild(child, exit, signal),
  }
}

async function killChild(
  child: ChildProcess,
  exit: Promise<unknown>,
  signal: NodeJS.Signals = 'SIGKILL',
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill(signal)
  await within(exit, 15_000, `exit after ${signal}`)
}

/** SIGKILLs every node and redis-server this module started and has not seen exit. */
export async function killAll(): Promise<void> {
  await Promise.all(
    [...live].map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await within(exited, 10_000, 'child exit').catch(() => {})
    }),
  )
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (!address || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** `undefined` when `redis-server` can be run here, else why not (CI throws instead). */
export function redisServerMissing(): string | undefined {
  const binary = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  const missing = binary.error ? `redis-server not runnable (${binary.error.message})` : undefined
  if (missing && process.env.CI) throw new Error(`CI: ${missing}`)
  return missing
}

export interface RedisProcess {
  readonly port: number
  readonly url: string
  kill(): Promise<void>
}

/** A throwaway redis-server (no persistence) on `port`, bound to 127.0.0.1. */
export async function startRedisServer(port: number): Promise<RedisProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  )
  live.add(child)
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      live.delete(child)
      resolve()
    }),
  )
  await waitFor(async () => (await tcpReachable('127.0.0.1', port, 200)) === undefined, {
    timeoutMs: 10_000,
    intervalMs: 25,
    message: `redis-server on ${port}`,
  })
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: () => killChild(child, exit),
  }
}
