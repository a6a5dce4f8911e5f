/**
 * The processes under test: the relay, and the server as `npm start` runs it (`src/cli.ts`) with a
 * chosen store. Each is its own process on 127.0.0.1, so its CPU time and RSS can be read from
 * /proc while the load processes drive it.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdirSync, rmSync, symlinkSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { dropSchema, testSchemaName } from '../../test/helpers/services.js'
import { readCpuMs, readRss } from './proc.js'

/** `.ts` under tsx (the smoke test), `.js` once bundled (`npm run bench:e2e`): same layout. */
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js'
const HERE = fileURLToPath(new URL('.', import.meta.url))

/** The loader flags this process runs with (tsx), handed on to the children; nothing else is. */
export function loaderArgs(): string[] {
  const out: string[] = []
  const argv = process.execArgv
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--import' || arg === '--loader' || arg === '--require') out.push(arg, argv[++i] as string)
    else if (/^--(import|loader|require)=/.test(arg)) out.push(arg)
  }
  return out
}

export function script(name: string): string {
  return join(HERE, `${name}${EXT}`)
}

export type StoreKind = 'memory' | 'embedded' | 'postgres'

export interface TargetSpec {
  /** Column name in the tables: `relay`, `memory`, `embedded`, `postgres`. */
  name: string
  kind: 'relay' | 'server'
  store?: StoreKind
  /** The CLI to run instead of this checkout's `src/cli.ts` (a baseline build of another commit). */
  cli?: string
}

export interface Target extends TargetSpec {
  url: string
  pid: number
  /** Resident set size now, bytes (Linux /proc). */
  rss(): number
  /** User + system CPU time so far, ms. */
  cpuMs(): number
  stop(): Promise<void>
}

export interface LaunchOptions {
  /** postgres:// URL for the `postgres` store. */
  postgresUrl: string
  /** Extra CLI environment, e.g. WS_HEARTBEAT_INTERVAL. */
  env?: Record<string, string>
  /** Directory for `--cpu-prof` profiles of the server processes (none when undefined). */
  cpuProfileDir?: string
  startupTimeoutMs?: number
}

/** Limits the CLI would otherwise apply to a load test (rate, per-IP and total connections). */
const BENCH_ENV: Record<string, string> = {
  NODE_ENV: 'development',
  SYNCKIT_AUTH_REQUIRED: 'false',
  SYNCKIT_MAX_MESSAGES_PER_MINUTE: '100000000',
  SYNCKIT_MAX_CONNECTIONS_PER_IP: '100000',
  WS_MAX_CONNECTIONS: '19500',
}

export async function launch(spec: TargetSpec, options: LaunchOptions): Promise<Target> {
  const profile = options.cpuProfileDir
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${options.cpuProfileDir}`,
        `--cpu-prof-name=${spec.name.replace(/\W/g, '_')}.cpuprofile`,
      ]
    : []
  if (spec.kind === 'relay') {
    const child = spawn(process.execPath, [...loaderArgs(), ...profile, script('relay')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const line = await firstMatch(child, /\{"port":(\d+)\}/, options.startupTimeoutMs ?? 30_000, spec.name)
    return target(spec, child, `ws://127.0.0.1:${line[1]}/ws`, async () => {})
  }
  const store = spec.store ?? 'memory'
  const cleanup: (() => Promise<void>)[] = []
  const env: Record<string, string | undefined> = { ...process.env }
  for (const name of Object.keys(env)) {
    if (/^(SYNCKIT_|JWT_|REDIS_)/.test(name) || name === 'DATABASE_URL') delete env[name]
  }
  Object.assign(env, BENCH_ENV, options.env)
  const args = [...loaderArgs(), ...profile]
  args.push(spec.cli ?? join(HERE, '..', '..', 'src', `cli${EXT}`), '--port', '0', '--host', '127.0.0.1')
  if (store === 'memory') args.push('--storage', 'memory')
  else if (store === 'embedded') {
    // Whatever `npm start` opens by default, in a fresh data directory of its own.
    const dir = await mkdtemp(join(tmpdir(), 'synckit-bench-'))
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    args.push('--data', dir)
  } else {
    const schema = testSchemaName()
    env.SYNCKIT_PG_SCHEMA = schema
    args.push('--storage', options.postgresUrl)
    cleanup.push(() => dropSchema(options.postgresUrl, schema))
  }
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 10_000) stderr += chunk.toString()
  })
  const done = async (): Promise<void> => {
    for (const step of cleanup) await step().catch(() => {})
  }
  try {
    const match = await firstMatch(
      child,
      /ws:\/\/127\.0\.0\.1:(\d+)\/ws/,
      options.startupTimeoutMs ?? 90_000,
      spec.name,
      () => stderr,
    )
    return target(spec, child, `ws://127.0.0.1:${match[1]}/ws`, done, () => stderr)
  } catch (error) {
    child.kill('SIGKILL')
    await done()
    throw error
  }
}

function target(
  spec: TargetSpec,
  child: ChildProcess,
  url: string,
  cleanup: () => Promise<void>,
  stderr: () => string = () => '',
): Target {
  const pid = child.pid as number
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
  let stopped = false
  child.once('exit', (code, signal) => {
    if (!stopped)
      console.error(`${spec.name} exited unexpectedly (${code ?? signal}): ${stderr().slice(-2000)}`)
  })
  return {
    ...spec,
    url,
    pid,
    rss: () => readRss(pid),
    cpuMs: () => readCpuMs(pid),
    async stop() {
      if (stopped) return
      stopped = true
      // SIGTERM: the CLI shuts down cleanly (and a --cpu-prof profile gets written).
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(timer)
      await cleanup()
    },
  }
}

function firstMatch(
  child: ChildProcess,
  pattern: RegExp,
  timeoutMs: number,
  name: string,
  stderr: () => string = () => '',
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start within ${timeoutMs} ms: ${out} ${stderr()}`)),
      timeoutMs,
    )
    const onData = (chunk: Buffer): void => {
      out += chunk.toString()
      const match = pattern.exec(out)
      if (!match) return
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      child.stdout?.resume()
      resolve(match)
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited at startup (${code}): ${out} ${stderr()}`))
    })
  })
}

/**
 * Builds the CLI of another commit (its `src/` and `adapters/`, bundled like this checkout's) for
 * side-by-side runs; returns the path of the bundle. Uses this checkout's node_modules.
 */
export function buildBaseline(ref: string, root: string): string {
  const dir = join(root, '.tmp', 'bench-e2e', 'baseline')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  execFileSync('sh', [
    '-c',
    `git -C "${root}" archive "$0" src adapters package.json | tar -x -C "${dir}"`,
    ref,
  ])
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'))
  execFileSync(
    join(root, 'node_modules', '.bin', 'tsup'),
    [
      'src/cli.ts',
      '--no-config',
      '--format',
      'esm',
      '--platform',
      'node',
      '--target',
      'node20',
      '--out-dir',
      'dist',
      '--silent',
    ],
    { cwd: dir, stdio: 'inherit' },
  )
  return join(dir, 'dist', 'cli.js')
}
