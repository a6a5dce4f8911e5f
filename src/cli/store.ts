import { inspectDataDir } from '../storage/data-dir.js'
import { StoreError } from '../storage/errors.js'
import { createPgliteStore } from '../storage/pglite.js'
import { createSqliteStore } from '../storage/sqlite.js'
import { openSqliteSnapshot } from '../storage/sqlite-snapshot.js'
import type { DocumentStore } from '../storage/store.js'
import type { OptionSpecs } from './args.js'
import { checkUrl, type EnvReader, invalid, redact, schemaName } from './values.js'

/**
 * The document store of every command, from the same settings: `start` serves it, `export` reads
 * it, `import` writes into it. One place decides what `--storage`, `--data`, `DATABASE_URL`,
 * `SYNCKIT_DATA_DIR`, `SYNCKIT_PG_SCHEMA` and `SYNCKIT_SQLITE_SYNCHRONOUS` open.
 */

/** `--storage` and `--data`, taken by every command that opens the store. */
export const STORE_OPTIONS = {
  storage: { type: 'string' },
  data: { type: 'string' },
} as const satisfies OptionSpecs

/** Their lines in a command's `--help`. */
export const STORE_OPTIONS_HELP = `  --storage <s>      embedded (SQLite in --data), pglite (PGlite in --data), memory, or a
                     postgres:// URL (env DATABASE_URL; default embedded). One process per
                     data directory; a PGlite directory is migrated to SQLite by embedded
  --data <dir>       Data directory for embedded storage (env SYNCKIT_DATA_DIR, default ./synckit-data)
`

/** Their variables in a command's `--help` (the Environment section). */
export const STORE_ENV_HELP = `  DATABASE_URL                      postgres:// URL of the document store (same as --storage)
  SYNCKIT_PG_SCHEMA                 Schema of the store's tables (Postgres or pglite; embedded reads
                                    it when migrating a PGlite directory), created if missing;
                                    default the database's search_path (usually public)
  SYNCKIT_DATA_DIR                  as --data
  SYNCKIT_SQLITE_SYNCHRONOUS        normal | full: embedded store commits (default normal: an acked
                                    write survives the process being killed; full: a power cut too,
                                    one fsync per commit)
`

export interface StoreConfig {
  /** `embedded` (SQLite in `dataDir`, the default), `pglite` (in `dataDir`), `memory`, or a postgres:// URL. */
  storage: 'embedded' | 'pglite' | 'memory' | string
  /** Where an embedded store keeps its files. */
  dataDir: string
  /** `SYNCKIT_PG_SCHEMA`: schema of the SQL store's tables (default: the search_path). */
  pgSchema?: string
  /** `SYNCKIT_SQLITE_SYNCHRONOUS`: durability of the embedded SQLite store's commits (default normal). */
  sqliteSynchronous?: 'full' | 'normal'
}

/** Flags win over the environment. Throws `ConfigError`. */
export function storeConfigFromEnv(
  read: EnvReader,
  options: { storage?: string | undefined; data?: string | undefined },
): StoreConfig {
  const config: StoreConfig = {
    storage: parseStorage(options.storage, read('DATABASE_URL')),
    dataDir: options.data ?? read('SYNCKIT_DATA_DIR') ?? './synckit-data',
  }
  const pgSchema = schemaName('SYNCKIT_PG_SCHEMA', read('SYNCKIT_PG_SCHEMA'))
  if (pgSchema !== undefined) config.pgSchema = pgSchema
  const synchronous = read('SYNCKIT_SQLITE_SYNCHRONOUS')?.toLowerCase()
  if (synchronous !== undefined) {
    if (synchronous !== 'full' && synchronous !== 'normal') {
      throw invalid('SYNCKIT_SQLITE_SYNCHRONOUS', synchronous, 'expected normal or full')
    }
    config.sqliteSynchronous = synchronous
  }
  return config
}

function parseStorage(flag: string | undefined, databaseUrl: string | undefined): string {
  if (flag !== undefined) {
    if (flag === 'memory' || flag === 'embedded' || flag === 'pglite') return flag
    checkUrl(
      '--storage',
      flag,
      ['postgres:', 'postgresql:'],
      '"embedded", "pglite", "memory" or a postgres:// URL',
    )
    return flag
  }
  // The embedded store (SQLite in the data directory) keeps data across restarts, no service needed.
  if (databaseUrl === undefined) return 'embedded'
  checkUrl('DATABASE_URL', databaseUrl, ['postgres:', 'postgresql:'], 'a postgres:// or postgresql:// URL')
  return databaseUrl
}

/**
 * `write` (serving or importing) opens the store as the server does: an embedded directory is
 * created if missing, migrated from PGlite if it holds one, and locked to this process. `read`
 * (exporting) never creates, migrates or locks anything: an embedded SQLite directory is read as
 * one consistent snapshot, even while a server runs on it (see `openSqliteSnapshot`); a PGlite
 * directory, which only one process can open, is refused while a server holds it.
 * `memory` opens nothing (`undefined`: the server's default store).
 */
export async function openStore(
  config: StoreConfig,
  access: 'read' | 'write',
  log: (message: string) => void,
): Promise<DocumentStore | undefined> {
  if (config.storage === 'memory') return undefined
  const schema = config.pgSchema === undefined ? {} : { schema: config.pgSchema }
  if (config.storage === 'embedded') {
    if (access === 'read') return openSqliteSnapshot(config.dataDir)
    return createSqliteStore({
      dataDir: config.dataDir,
      ...(config.pgSchema === undefined ? {} : { pgliteSchema: config.pgSchema }),
      ...(config.sqliteSynchronous === undefined ? {} : { synchronous: config.sqliteSynchronous }),
      log,
    })
  }
  if (config.storage === 'pglite') {
    if (access === 'read') await expectPgliteStore(config.dataDir)
    return createPgliteStore({ dataDir: config.dataDir, ...schema })
  }
  // Loaded only when used, like PGlite: a start without Postgres does not pay for its driver.
  const { createPostgresStore } = await import('../../adapters/postgres.js')
  return createPostgresStore({ url: config.storage, ...schema })
}

/** Reading must not initialize a new PGlite database where there was none. */
async function expectPgliteStore(dataDir: string): Promise<void> {
  const state = await inspectDataDir(dataDir)
  if (state.kind === 'pglite-unmarked' || (state.kind === 'marked' && state.format.store === 'pglite')) return
  const holds =
    state.kind === 'marked' ? `a ${state.format.store} store (--storage embedded)` : 'no PGlite store'
  throw new StoreError('QUERY_ERROR', `data directory ${dataDir} holds ${holds}`)
}

/** For messages and the banner; a password in a URL is never shown. */
export function describeStorage(config: StoreConfig): string {
  if (config.storage === 'memory') return 'memory'
  if (config.storage === 'embedded') return `embedded (SQLite in ${config.dataDir})`
  if (config.storage === 'pglite') return `embedded (PGlite in ${config.dataDir})`
  return redact(config.storage)
}
