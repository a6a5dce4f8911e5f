import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import { DataDirectoryLockedError, type LockHolder, StoreError } from './errors.js'
import { HOLDER_FILE, LOCK_FILE } from './layout.js'
import {
  openSqliteDatabase,
  type SqliteDatabase,
  type SqliteDriverName,
  sqliteError,
} from './sqlite-driver.js'

export interface DataDirectoryLock {
  /** Absolute path of the locked directory. */
  readonly dataDir: string
  /** Releases the lock (idempotent). The process exiting, however it exits, releases it too. */
  release(): Promise<void>
}

/**
 * Locks `dataDir` (created if missing) for this process, or rejects with a
 * `DataDirectoryLockedError` naming the holder.
 *
 * The exclusion is the operating system's file lock (POSIX `fcntl`, taken through SQLite's
 * `BEGIN EXCLUSIVE` on `synckit.lock`), not the pid file: the kernel decides between two starters
 * racing, and frees the lock when its holder dies, even by SIGKILL. So a crashed holder leaves
 * nothing to take over and a reused pid cannot fool it. The lock file is never deleted (deleting
 * a locked file lets a third process lock a new file of the same name). Network file systems
 * must support POSIX locks (NFSv4 does; see docs/operations.md).
 */
export async function lockDataDirectory(
  dataDir: string,
  options: { driver?: SqliteDriverName } = {},
): Promise<DataDirectoryLock> {
  const dir = resolve(dataDir)
  try {
    await mkdir(dir, { recursive: true })
  } catch (error) {
    throw new StoreError('CONNECTION_ERROR', `cannot create data directory ${dir}: ${String(error)}`, {
      cause: error,
    })
  }
  const db = await openSqliteDatabase(join(dir, LOCK_FILE), options.driver)
  try {
    // A held lock answers SQLITE_BUSY at once: never wait for a holder (better-sqlite3 would
    // wait 5 s by default). The journal stays in memory: the transaction never writes, and no
    // file is left behind.
    db.exec('pragma busy_timeout = 0')
    db.exec('pragma journal_mode = memory')
    db.exec('begin exclusive')
  } catch (error) {
    closeQuietly(db)
    if (!/busy|locked/i.test(String(error))) throw sqliteError(error, `lock ${join(dir, LOCK_FILE)}`)
    throw new DataDirectoryLockedError(dir, await readHolder(dir))
  }
  const holder: LockHolder = { pid: process.pid, hostname: hostname(), since: new Date().toISOString() }
  try {
    await writeAtomically(join(dir, HOLDER_FILE), `${JSON.stringify(holder)}\n`)
  } catch (error) {
    closeQuietly(db)
    throw new StoreError('CONNECTION_ERROR', `cannot write ${join(dir, HOLDER_FILE)}: ${String(error)}`, {
      cause: error,
    })
  }
  let released = false
  return {
    dataDir: dir,
    async release() {
      if (released) return
      released = true
      // Still ours: the lock excluded everyone else from writing it.
      await rm(join(dir, HOLDER_FILE), { force: true }).catch(() => {})
      closeQuietly(db)
    },
  }
}

function closeQuietly(db: SqliteDatabase): void {
  try {
    db.close()
  } catch {
    // Closing drops the lock either way.
  }
}

/** The holder's pid file; it may lag the lock by a moment, so a missing one is retried briefly. */
async function readHolder(dir: string): Promise<LockHolder | undefined> {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const parsed: unknown = JSON.parse(await readFile(join(dir, HOLDER_FILE), 'utf8'))
      if (isHolder(parsed)) return parsed
    } catch {
      // Not written yet (or being replaced): wait below.
    }
    await new Promise((done) => setTimeout(done, 50))
  }
  return undefined
}

function isHolder(x: unknown): x is LockHolder {
  if (typeof x !== 'object' || x === null) return false
  const h = x as Record<string, unknown>
  return Number.isSafeInteger(h.pid) && typeof h.hostname === 'string' && typeof h.since === 'string'
}

/** Temp file + rename: a reader sees the old file or the whole new one, never half. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await writeFile(temp, text, { flush: true })
    await rename(temp, path)
  } catch (error) {
    await rm(temp, { force: true }).catch(() => {})
    throw error
  }
}
