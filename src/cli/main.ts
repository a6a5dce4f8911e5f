import { ConfigError } from './args.js'
import { exportCommand, importCommand } from './backup.js'
import { type CliCommand, type CliIo, type CommandResult, report } from './command.js'
import { docsCommand } from './docs.js'
import { startCommand } from './start.js'

/** Every command; `start` runs when the first argument names none (an option, or nothing). */
const COMMANDS: readonly CliCommand[] = [startCommand, exportCommand, importCommand, docsCommand]

/**
 * `synckit-engine [command] [options]`: dispatches to a command, and turns a `ConfigError` into
 * its message on stderr and exit code 1. `synckit-engine --port 0` is `start --port 0`.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<CommandResult> {
  const [first, ...rest] = argv
  const named = first === undefined || first.startsWith('-') ? undefined : first
  try {
    if (named === undefined) return await startCommand.run(argv, io)
    const command = COMMANDS.find((candidate) => candidate.name === named)
    if (!command) {
      const names = COMMANDS.map((candidate) => candidate.name).join(', ')
      throw new ConfigError(named, `Unknown command "${named}" (commands: ${names}; see --help)`)
    }
    return await command.run(rest, io)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    report(io, error.message)
    return 1
  }
}
