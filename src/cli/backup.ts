import { access } from 'node:fs/promises'
import {
  exportCommand as runExport,
  importCommand as runImport,
  importFromSyncKitCommand as runSyncKitImport,
} from '../backup/commands.js'
import { BackupFormatError } from '../backup/format.js'
import { MemoryStore } from '../storage/memory-store.js'
import type { DocumentStore } from '../storage/store.js'
import { ConfigError, type OptionValues, parseCommandLine } from './args.js'
import { type CliCommand, type CliIo, type CommandResult, messageOf, report } from './command.js'
import { COMMANDS_HELP } from './config.js'
import {
  describeStorage,
  openStore,
  STORE_ENV_HELP,
  STORE_OPTIONS,
  STORE_OPTIONS_HELP,
  type StoreConfig,
  storeConfigFromEnv,
} from './store.js'
import { checkUrl, envReader, redact, schemaName } from './values.js'

/**
 * `synckit-engine export` and `import`: the backup library (`src/backup`) on the store the server
 * opens with the same settings. Data goes to stdout or a file, progress and errors to stderr.
 */

const STORE_SECTION = `Store (the one \`synckit-engine start\` opens with the same settings):
${STORE_OPTIONS_HELP}
Environment:
${STORE_ENV_HELP}`

export const EXPORT_HELP = `Usage: synckit-engine export [--out FILE] [--storage S] [--data DIR]

Writes every document of the store (registers with their stamps and tombstones, and vector
clocks) as JSON lines, to FILE or to stdout. FILE is written as FILE.partial and renamed when
complete. Progress goes to stderr: a bar on a terminal, a line every 5 s otherwise.

An embedded SQLite directory can be exported while a server runs on it: the export reads one
consistent snapshot of it and takes no lock. A PGlite directory cannot (one process at a time):
stop its server first. Postgres is read document by document while the nodes keep writing.

Options:
  --out <file>       Write to FILE instead of stdout
  -h, --help         Show this help

${STORE_SECTION}
${COMMANDS_HELP}`

export const IMPORT_HELP = `Usage: synckit-engine import FILE [--dry-run] [--storage S] [--data DIR]
       synckit-engine import --from-synckit postgres://... [--synckit-schema NAME] [--storage S] [--data DIR]

Writes an export (FILE; - reads stdin), or the documents of a SyncKit TypeScript server's
Postgres database (read only), into the store. Every register is merged by last-writer-wins
on its stamp, so importing the same file twice, or an older one, changes nothing, and an
interrupted import can be run again. A malformed line stops the import with its line number.

Import before the server serves clients: a running server does not see imported values of
documents it holds in memory. An embedded data directory is locked by a running server: stop
it first.

Options:
  --dry-run              Check every line of FILE, write nothing
  --from-synckit <url>   postgres:// URL of the SyncKit database to copy
  --synckit-schema <s>   Schema of SyncKit's tables (default: the database's search_path)
  -h, --help             Show this help

${STORE_SECTION}
${COMMANDS_HELP}`

const EXPORT_OPTIONS = { out: { type: 'string' }, ...STORE_OPTIONS } as const

export const exportCommand: CliCommand = {
  name: 'export',
  async run(argv, io) {
    const { help, options } = parseCommandLine(argv, EXPORT_OPTIONS)
    if (help) return printHelp(io, EXPORT_HELP)
    const config = durableStore(io, options, 'export')
    return withStore(io, config, 'read', 'export', async (store) => {
      await runExport({
        store,
        ...(options.out === undefined ? {} : { out: options.out }),
        stdout: io.stdout,
        progress: io.stderr,
      })
    })
  },
}

const IMPORT_OPTIONS = {
  'dry-run': { type: 'boolean' },
  'from-synckit': { type: 'string' },
  'synckit-schema': { type: 'string' },
  ...STORE_OPTIONS,
} as const

export const importCommand: CliCommand = {
  name: 'import',
  async run(argv, io) {
    const { help, options, positionals } = parseCommandLine(argv, IMPORT_OPTIONS, 1)
    if (help) return printHelp(io, IMPORT_HELP)
    const source = await importSource(options, positionals[0])
    const config = durableStore(io, options, 'import')
    if (source.kind === 'synckit') {
      const { url, schema } = source
      return withStore(io, config, 'write', `import from ${redact(url)}`, (store) =>
        runSyncKitImport({ store, url, ...(schema === undefined ? {} : { schema }), progress: io.stderr }),
      )
    }
    const input = { file: source.file, stdin: io.stdin, progress: io.stderr }
    if (!source.dryRun) {
      return withStore(io, config, 'write', 'import', (store) => runImport({ store, ...input }))
    }
    // A dry run checks the file only: the configured store is not opened (nor created, nor locked).
    return withStore(io, config, new MemoryStore(), 'dry run', async (store) => {
      const summary = await runImport({ store, ...input, dryRun: true })
      io.stderr.write(
        `dry run: ${summary.documents} documents, ${summary.registers} registers are valid; nothing written\n`,
      )
    })
  },
}

type ImportSource =
  | { kind: 'file'; file: string; dryRun: boolean }
  | { kind: 'synckit'; url: string; schema: string | undefined }

/** FILE or `--from-synckit URL`, checked before any store is opened. */
async function importSource(
  options: OptionValues<typeof IMPORT_OPTIONS>,
  file: string | undefined,
): Promise<ImportSource> {
  const url = options['from-synckit']
  if (url !== undefined) {
    if (file !== undefined) {
      throw new ConfigError(file, `Give FILE or --from-synckit, not both (got FILE "${file}")`)
    }
    if (options['dry-run']) throw new ConfigError('--dry-run', 'Option --dry-run applies to FILE only')
    checkUrl('--from-synckit', url, ['postgres:', 'postgresql:'], 'a postgres:// URL')
    return { kind: 'synckit', url, schema: schemaName('--synckit-schema', options['synckit-schema']) }
  }
  if (file === undefined) {
    throw new ConfigError(
      'FILE',
      'Missing FILE: synckit-engine import FILE, or --from-synckit postgres://...',
    )
  }
  if (options['synckit-schema'] !== undefined) {
    throw new ConfigError('--synckit-schema', 'Option --synckit-schema needs --from-synckit')
  }
  if (file !== '-') await readable(file)
  return { kind: 'file', file, dryRun: options['dry-run'] === true }
}

function printHelp(io: CliIo, text: string): number {
  io.stdout.write(text)
  return 0
}

/** The store settings; `memory` holds nothing outside a running server, so it is refused. */
function durableStore(
  io: CliIo,
  options: { storage?: string | undefined; data?: string | undefined },
  command: string,
): StoreConfig {
  const config = storeConfigFromEnv(envReader(io.env), options)
  if (config.storage === 'memory') {
    throw new ConfigError(
      '--storage',
      `Invalid --storage "memory" for ${command}: a memory store lives inside one server process; ` +
        'use embedded, pglite or a postgres:// URL',
    )
  }
  return config
}

/** FILE must exist before the store is opened (and an embedded directory locked). */
async function readable(file: string): Promise<void> {
  try {
    await access(file)
  } catch (error) {
    throw new ConfigError('FILE', `Cannot read FILE "${file}": ${messageOf(error)}`)
  }
}

/**
 * Opens the store (or takes the one given), runs `body`, closes the store. A failure is reported
 * on stderr as `<what> failed: ...` (exit 1); a malformed line also says that what came before it
 * is imported and that a re-run is safe.
 */
async function withStore(
  io: CliIo,
  config: StoreConfig,
  access: 'read' | 'write' | DocumentStore,
  what: string,
  body: (store: DocumentStore) => Promise<unknown>,
): Promise<CommandResult> {
  let store: DocumentStore | undefined
  try {
    store =
      typeof access === 'string' ? await openStore(config, access, (message) => report(io, message)) : access
  } catch (error) {
    report(io, `cannot open storage ${describeStorage(config)}: ${messageOf(error)}`)
    return 1
  }
  if (store === undefined) throw new Error('a durable store opens a store')
  try {
    await body(store)
    return 0
  } catch (error) {
    const hint =
      error instanceof BackupFormatError
        ? '. The documents before that line are imported: fix the file and run the import again (it is idempotent)'
        : ''
    report(io, `${what} failed: ${messageOf(error)}${hint}`)
    return 1
  } finally {
    await store.close?.()
  }
}
