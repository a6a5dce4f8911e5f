import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { cliEnvironment } from './node-process.js'
import { within } from './wait-for.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface CommandRun {
  /** Exit code; null when the command was killed. */
  code: number | null
  stdout: string
  stderr: string
}

/**
 * Runs a one-shot CLI command (`synckit-engine export ...`) as a real process and waits for it to
 * exit by itself: a command that leaves a handle open fails the test by timing out.
 */
export function runCommand(args: string[], options: RunOptions = {}): Promise<CommandRun> {
  return runProgram(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], options)
}

export interface RunOptions {
  env?: Record<string, string>
  stdin?: string
  timeoutMs?: number
}

/** Runs `program` in the repository root with the CLI's test environment, until it exits. */
export async function runProgram(
  program: string,
  args: string[],
  options: RunOptions = {},
): Promise<CommandRun> {
  const child = spawn(program, args, {
    cwd: ROOT,
    env: { ...cliEnvironment(), ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  child.stdin.end(options.stdin ?? '')
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  try {
    const code = await within(exit, options.timeoutMs ?? 60_000, `${program} ${args.join(' ')}`)
    return { code, stdout, stderr }
  } catch (error) {
    child.kill('SIGKILL')
    throw new Error(`${(error as Error).message} (stdout: ${stdout} stderr: ${stderr})`)
  }
}
