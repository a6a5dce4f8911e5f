import { mkdir, readdir, readFile, rename, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { writeAtomically } from './data-dir-lock.js'
import { StoreError } from './errors.js'
import {
  DATA_DIR_FORMAT_VERSION,
  type DataDirFormat,
  FORMAT_FILE,
  HOLDER_FILE,
  LOCK_FILE,
  PGLITE_BACKUP_DIR,
  SQLITE_FILE,
} from './layout.js'

export type DataDirState =
  /** Missing, or holding nothing but a lock: a new store may be created. */
  | { kind: 'empty' }
  | { kind: 'marked'; format: DataDirFormat }
  /** PGlite files and no marker: written by a version before the marker. */
  | { kind: 'pglite-unmarked' }
  /** Files that are not a synckit store: never written into. */
  | { kind: 'foreign'; entries: string[] }

/** Top-level entries of a Postgres data directory (what a PGlite store writes). */
const POSTGRES_ENTRY =
  /^(PG_VERSION|base|global|pg_[a-z_]+(\.conf)?|postgresql(\.auto)?\.conf|postmaster\.(pid|opts))$/
const OWN_ENTRY = new RegExp(
  `^(${[LOCK_FILE, HOLDER_FILE, FORMAT_FILE, SQLITE_FILE].map((f) => f.replaceAll('.', '\\.')).join('|')})(-wal|-shm|-journal|\\.[0-9a-f]+\\.tmp|\\.partial.*)?$`,
)

/** What `dir` holds (call it with the directory locked). */
export async function inspectDataDir(dir: string): Promise<DataDirState> {
  let entries: string[]
  try {
    entries = await readdir(dir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'empty' }
    throw new StoreError('CONNECTION_ERROR', `cannot read data directory ${dir}: ${String(error)}`, {
      cause: error,
    })
  }
  if (entries.includes(FORMAT_FILE)) return { kind: 'marked', format: await readFormat(dir) }
  if (entries.includes('PG_VERSION')) return { kind: 'pglite-unmarked' }
  const foreign = entries.filter((entry) => !OWN_ENTRY.test(entry))
  return foreign.length === 0 ? { kind: 'empty' } : { kind: 'foreign', entries: foreign }
}

async function readFormat(dir: string): Promise<DataDirFormat> {
  const path = join(dir, FORMAT_FILE)
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'))
  } catch (error) {
    throw new StoreError('QUERY_ERROR', `unreadable format marker ${path}: ${String(error)}`, {
      cause: error,
    })
  }
  const format = parsed as Partial<DataDirFormat> | null
  if (
    format === null ||
    typeof format !== 'object' ||
    format.format !== 'synckit-data' ||
    !Number.isSafeInteger(format.version) ||
    (format.store !== 'sqlite' && format.store !== 'pglite')
  ) {
    throw new StoreError('QUERY_ERROR', `${path} is not a synckit-data format marker`)
  }
  if ((format.version as number) > DATA_DIR_FORMAT_VERSION) {
    throw new StoreError(
      'QUERY_ERROR',
      `${dir} has data directory format ${format.version}, newer than this synckit-engine understands ` +
        `(${DATA_DIR_FORMAT_VERSION}): upgrade synckit-engine`,
    )
  }
  return format as DataDirFormat
}

export async function writeFormat(
  dir: string,
  format: Omit<DataDirFormat, 'format' | 'version'>,
): Promise<void> {
  const marker: DataDirFormat = { format: 'synckit-data', version: DATA_DIR_FORMAT_VERSION, ...format }
  await writeAtomically(join(dir, FORMAT_FILE), `${JSON.stringify(marker, null, 2)}\n`)
}

/** The refusal for a directory that holds something else. */
export function foreignDirectoryError(dir: string, entries: string[]): StoreError {
  const shown = entries.slice(0, 5).join(', ') + (entries.length > 5 ? ', ...' : '')
  return new StoreError(
    'QUERY_ERROR',
    `data directory ${dir} is not empty and holds no synckit store (no ${FORMAT_FILE}; found ${shown}): ` +
      'use a new or empty directory',
  )
}

/**
 * Moves the PGlite files left at the top level into `pglite-backup/` (a PGlite data directory of
 * its own). Idempotent: an interrupted move is finished by the next call.
 */
export async function movePgliteFilesToBackup(dir: string): Promise<string | undefined> {
  const entries = (await readdir(dir)).filter((entry) => POSTGRES_ENTRY.test(entry))
  if (entries.length === 0) return undefined
  const backup = join(dir, PGLITE_BACKUP_DIR)
  await mkdir(backup, { recursive: true })
  for (const entry of entries) {
    const target = join(backup, entry)
    const exists = await stat(target).then(
      () => true,
      () => false,
    )
    if (exists) {
      throw new StoreError('QUERY_ERROR', `cannot move ${join(dir, entry)}: ${target} already exists`)
    }
    await rename(join(dir, entry), target)
  }
  return backup
}
