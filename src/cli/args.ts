import { parseArgs } from 'node:util'

/**
 * Command-line arguments of one CLI command, tokenized by `node:util` `parseArgs` (long and short
 * options, `--name=value`, `--` before arguments that start with a dash) and then checked here, so
 * every mistake is refused with a message in our words that names the option.
 */

/** A setting with an unusable value; `setting` names the env variable, option or argument. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(message)
  }
}

/** One option: `--name <value>` (`string`) or `--name` (`boolean`). */
export interface OptionSpec {
  readonly type: 'string' | 'boolean'
  readonly short?: string
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>

/** What the options of `S` parse to: a string or `true`, absent when not given. */
export type OptionValues<S extends OptionSpecs> = {
  [K in keyof S]?: S[K]['type'] extends 'string' ? string : true
}

export interface CommandLine<S extends OptionSpecs> {
  /** `--help` or `-h` was given: nothing else was checked. */
  readonly help: boolean
  readonly options: OptionValues<S>
  readonly positionals: readonly string[]
}

const HELP: OptionSpecs = { help: { type: 'boolean', short: 'h' } }

/**
 * Parses `argv` (the arguments after the command name). Repeated options: the last one wins.
 * A string option's value can be neither empty nor, when it is the next argument, an option
 * (`--host --port 1` is a missing value, not the host `--port`). Throws `ConfigError`.
 */
export function parseCommandLine<S extends OptionSpecs>(
  argv: readonly string[],
  specs: S,
  maxPositionals = 0,
): CommandLine<S> {
  const all: OptionSpecs = { ...specs, ...HELP }
  const { tokens } = parseArgs({
    args: [...argv],
    options: { ...all },
    strict: false,
    allowPositionals: true,
    tokens: true,
  })
  if (tokens.some((token) => token.kind === 'option' && token.name === 'help')) {
    return { help: true, options: {}, positionals: [] }
  }
  const options: Record<string, string | true> = {}
  const positionals: string[] = []
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue
    if (token.kind === 'positional') {
      if (positionals.length >= maxPositionals) {
        throw new ConfigError(token.value, `Unexpected argument "${token.value}" (see --help)`)
      }
      positionals.push(token.value)
      continue
    }
    const spec = Object.hasOwn(specs, token.name) ? specs[token.name] : undefined
    if (spec === undefined)
      throw new ConfigError(token.rawName, `Unknown option "${token.rawName}" (see --help)`)
    const option = `--${token.name}`
    if (spec.type === 'boolean') {
      if (token.value !== undefined) throw new ConfigError(option, `Option ${option} takes no value`)
      options[token.name] = true
      continue
    }
    const value = token.value?.trim()
    if (!value || (!token.inlineValue && value.startsWith('--'))) {
      throw new ConfigError(option, `Missing value for ${option}`)
    }
    options[token.name] = value
  }
  return { help: false, options: options as OptionValues<S>, positionals }
}
