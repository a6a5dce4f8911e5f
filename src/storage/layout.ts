/**
 * The layout of an embedded data directory (documented in docs/operations.md):
 *
 *   synckit-data.json   format marker: {"format":"synckit-data","version":1,"store":"sqlite"|"pglite"}
 *   synckit.sqlite      the SQLite store (+ -wal, -shm while open)
 *   synckit.lock        the lock (see `lockDataDirectory`); synckit.pid names its holder
 *   pglite-backup/      after an automatic migration: the PGlite database it came from
 *
 * A PGlite store keeps Postgres's own files (PG_VERSION, base/, ...) at the top level, as
 * versions before the marker did; a directory with PG_VERSION and no marker is such a store.
 */
export const FORMAT_FILE = 'synckit-data.json'
/** Version of the data-directory layout in `FORMAT_FILE`; a newer one is refused at startup. */
export const DATA_DIR_FORMAT_VERSION = 1
/** The embedded SQLite database inside the data directory. */
export const SQLITE_FILE = 'synckit.sqlite'
/** An empty SQLite database whose exclusive lock the holder keeps open. Never deleted. */
export const LOCK_FILE = 'synckit.lock'
/** Who holds the lock (pid, host, since when): for the error message only, never for deciding. */
export const HOLDER_FILE = 'synckit.pid'
export const PGLITE_BACKUP_DIR = 'pglite-backup'

/** Which embedded store a data directory holds. */
export type EmbeddedStoreKind = 'sqlite' | 'pglite'

/** The content of `synckit-data.json`. */
export interface DataDirFormat {
  format: 'synckit-data'
  version: number
  store: EmbeddedStoreKind
  /** Set by an automatic migration: the store the data came from. */
  migratedFrom?: 'pglite'
}
