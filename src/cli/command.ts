import type { Readable, Writable } from 'node:stream'
import type { Env } from './values.js'

/** What a command reads and writes: the process's streams and environment, or a test's. */
export interface CliIo {
  readonly env: Env
  /** Data (an export) and help texts. */
  readonly stdout: Writable
  /** Errors and progress: a bar when it is a terminal (`isTTY`), plain lines otherwise. */
  readonly stderr: Writable & { isTTY?: boolean; columns?: number }
  /** `import -` reads it. */
  readonly stdin: Readable
}

/** An exit code, or `serving`: the process stays up (the server) and exits by itself later. */
export type CommandResult = number | 'serving'

/**
 * One `synckit-engine <name>` command. A group of commands (`docs list|get|...`) is one command
 * whose `run` dispatches on its first argument.
 */
export interface CliCommand {
  /** What follows `synckit-engine`; the command prints its own `--help`. */
  readonly name: string
  /**
   * Runs with the arguments after the command's name. Resolves to the exit code, or to `serving`
   * when the command keeps the process alive (the server) and exits by itself later. Bad
   * arguments or settings throw `ConfigError` (exit 1).
   */
  run(argv: readonly string[], io: CliIo): Promise<CommandResult>
}

/** Writes `synckit-engine: <message>` to stderr: every error line of the CLI looks alike. */
export function report(io: CliIo, message: string): void {
  io.stderr.write(`synckit-engine: ${message}\n`)
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
