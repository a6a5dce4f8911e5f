import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ConformanceTarget } from './suite.js'
import { within } from './wait.js'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')

export interface SpawnRuntimeOptions {
  /** For messages, e.g. `bun`. */
  name: string
  command: string
  args: string[]
  env?: Record<string, string>
  /** Default 30 s: from spawn to the JSON line announcing the port. */
  startupTimeoutMs?: number
  /** Default 10 s between SIGTERM and SIGKILL. */
  stopTimeoutMs?: number
}

const STDERR_KEPT = 8_192

interface ExitStatus {
  code: number | null
  signal: NodeJS.Signals | null
}

/** The path of a devDependency's binary, or a clear error telling how to get it. */
export function runtimeBinary(name: string): string {
  const path = resolve(REPO_ROOT, 'node_modules/.bin', name)
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: the \`${name}\` devDependency is not installed (run \`npm ci\`)`)
  }
  return path
}

/**
 * Spawns a runtime running a fixture server that prints `{"port": <n>}` as a line on stdout once
 * listening. Startup is bounded; failures carry the child's stderr. `stop()` sends SIGTERM (the
 * fixtures close the SyncServer gracefully), then SIGKILL if the child lingers. The child's stdin
 * stays open: fixtures exit when it closes, so a crashed test run leaves no server behind.
 */
export async function spawnRuntime(options: SpawnRuntimeOptions): Promise<ConformanceTarget> {
  const startupTimeoutMs = options.startupTimeoutMs ?? 30_000
  const child = spawn(options.command, options.args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEPT)
  })
  const describeChild = (): string =>
    `${options.name} (${[options.command, ...options.args].join(' ')})` +
    (stderr.trim() ? `\n--- ${options.name} stderr ---\n${stderr.trim()}\n---` : ' (no stderr)')
  let exited: ExitStatus | undefined
  // Read through a function: assigned in a callback, which control-flow narrowing cannot see.
  const exitStatus = (): ExitStatus | undefined => exited
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal }
      resolve()
    })
  })
  let stopping = false
  void exit.then(() => {
    if (!stopping)
      process.stderr.write(`[conformance] ${describeChild()} exited early: ${JSON.stringify(exited)}\n`)
  })

  let port: number
  try {
    port = await within(readPort(child, exit, exitStatus), startupTimeoutMs, `${options.name} startup`)
  } catch (error) {
    stopping = true
    child.kill('SIGKILL')
    throw new Error(`${(error as Error).message}: ${describeChild()}`)
  }

  const stopTimeoutMs = options.stopTimeoutMs ?? 10_000
  return {
    diagnostics: () => {
      const status = exitStatus()
      return `\n${status ? `exited ${JSON.stringify(status)}` : 'running'}: ${describeChild()}`
    },
    url: `ws://127.0.0.1:${port}/ws`,
    httpUrl: `http://127.0.0.1:${port}`,
    async stop() {
      stopping = true
      if (exitStatus()) return
      child.kill('SIGTERM')
      try {
        await within(exit, stopTimeoutMs, `${options.name} exiting after SIGTERM`)
      } catch {
        child.kill('SIGKILL')
        await within(exit, 5_000, `${options.name} exiting after SIGKILL`)
        throw new Error(`${options.name} ignored SIGTERM for ${stopTimeoutMs} ms: ${describeChild()}`)
      }
      const status = exitStatus()
      if (status?.code !== 0) {
        throw new Error(`${options.name} exited with ${JSON.stringify(status)}: ${describeChild()}`)
      }
    },
  }
}

/** The first stdout line that is JSON with a numeric `port`. Other lines are passed through. */
function readPort(
  child: ChildProcess,
  exit: Promise<void>,
  exited: () => ExitStatus | undefined,
): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let buffer = ''
    let found = false
    child.stdout?.setEncoding('utf8')
    child.stdout?.on('data', (chunk: string) => {
      if (found) return
      buffer += chunk
      let newline = buffer.indexOf('\n')
      while (newline >= 0) {
        const line = buffer.slice(0, newline).trim()
        buffer = buffer.slice(newline + 1)
        newline = buffer.indexOf('\n')
        const port = portOf(line)
        if (port !== undefined) {
          found = true
          child.stdout?.resume() // keep draining, so the child never blocks on a full pipe
          resolve(port)
          return
        }
      }
    })
    child.once('error', (error) => reject(new Error(`could not spawn: ${error.message}`)))
    void exit.then(() => reject(new Error(`exited before listening: ${JSON.stringify(exited())}`)))
  })
}

function portOf(line: string): number | undefined {
  if (!line.startsWith('{')) return undefined
  try {
    const value: unknown = JSON.parse(line)
    if (typeof value !== 'object' || value === null) return undefined
    const port = (value as { port?: unknown }).port
    return typeof port === 'number' && Number.isInteger(port) && port > 0 ? port : undefined
  } catch {
    return undefined
  }
}

/**
 * How the fixtures run Deno (the `deno` devDependency) on test/runtimes/deno-server.ts, offline:
 * - `--node-modules-dir=manual`: npm packages (eventemitter3) come from the repo's node_modules,
 *   as installed by npm; nothing is downloaded;
 * - `--sloppy-imports`: the sources import `./x.js` for `./x.ts` (the Node/TypeScript convention);
 * - `--no-lock`: no deno.lock is written into the repo.
 */
export const DENO_ARGS = [
  'run',
  '--node-modules-dir=manual',
  '--sloppy-imports',
  '--no-lock',
  '--no-prompt',
  '--allow-net=127.0.0.1',
  '--allow-env',
  '--allow-read',
  'test/runtimes/deno-server.ts',
]
