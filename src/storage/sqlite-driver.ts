import { StoreError } from './errors.js'

/**
 * The few synchronous SQLite calls the embedded store makes, over whichever SQLite binding the
 * runtime has: `bun:sqlite` on Bun, `better-sqlite3` (an optional dependency) on Node, or
 * `node:sqlite` where Node has it (22.13+, or 22.5+ with `--experimental-sqlite`).
 */
export type SqliteDriverName = 'better-sqlite3' | 'node:sqlite' | 'bun:sqlite'

/** Bound as SQL values: integers up to 2^53 - 1, text, or NULL (booleans travel as 0 / 1). */
export type SqliteParam = string | number | null

export type SqliteRow = Record<string, unknown>

export interface SqliteStatement {
  run(...params: SqliteParam[]): void
  get(...params: SqliteParam[]): SqliteRow | undefined
  all(...params: SqliteParam[]): SqliteRow[]
}

export interface SqliteDatabase {
  readonly driver: SqliteDriverName
  /** One or more statements without parameters. */
  exec(sql: string): void
  prepare(sql: string): SqliteStatement
  close(): void
}

/** What the three bindings have in common (each is checked at load time, never trusted). */
interface NativeStatement {
  run(...params: unknown[]): unknown
  get(...params: unknown[]): unknown
  all(...params: unknown[]): unknown
}
interface NativeDatabase {
  exec(sql: string): unknown
  prepare(sql: string): NativeStatement
  close(): unknown
}
type Opener = (path: string) => NativeDatabase

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null

/** The runtime's `import()`, behind a variable so bundlers leave runtime-only modules alone. */
const load = (specifier: string): Promise<unknown> => import(/* @vite-ignore */ specifier)

function constructorOf(module: unknown, name: string): (new (path: string) => NativeDatabase) | undefined {
  if (!isRecord(module)) return undefined
  const candidate = module[name] ?? (isRecord(module.default) ? module.default[name] : undefined)
  return typeof candidate === 'function' ? (candidate as new (path: string) => NativeDatabase) : undefined
}

async function opener(driver: SqliteDriverName): Promise<Opener> {
  if (driver === 'bun:sqlite') {
    const Database = constructorOf(await load('bun:sqlite'), 'Database')
    if (Database === undefined) throw new TypeError('bun:sqlite has no Database class')
    return (path) => new Database(path)
  }
  if (driver === 'node:sqlite') {
    const DatabaseSync = constructorOf(await load('node:sqlite'), 'DatabaseSync')
    if (DatabaseSync === undefined) throw new TypeError('node:sqlite has no DatabaseSync class')
    return (path) => new DatabaseSync(path)
  }
  const module = await load('better-sqlite3')
  const Database = isRecord(module) ? module.default : undefined
  if (typeof Database !== 'function') throw new TypeError('better-sqlite3 has no default export')
  return (path) => new (Database as new (path: string) => NativeDatabase)(path)
}

/** The bindings to try, best first, on this runtime. */
function candidates(): SqliteDriverName[] {
  if (isRecord(globalThis) && 'Bun' in globalThis) return ['bun:sqlite']
  return ['better-sqlite3', 'node:sqlite']
}

const openers = new Map<SqliteDriverName, Promise<Opener>>()

/**
 * Opens (creating if missing) the SQLite database at `path` (`:memory:` for a throwaway one) with
 * `driver`, or the first binding this runtime can load. Rejects with a CONNECTION_ERROR that says
 * how to get a binding when none loads.
 */
export async function openSqliteDatabase(path: string, driver?: SqliteDriverName): Promise<SqliteDatabase> {
  const failures: string[] = []
  for (const name of driver === undefined ? candidates() : [driver]) {
    let open: Opener
    try {
      let pending = openers.get(name)
      if (pending === undefined) {
        pending = opener(name)
        openers.set(name, pending)
        pending.catch(() => openers.delete(name))
      }
      open = await pending
    } catch (error) {
      failures.push(`${name}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`)
      continue
    }
    try {
      return wrap(name, open(path))
    } catch (error) {
      throw sqliteError(error, `open ${path}`)
    }
  }
  throw new StoreError(
    'CONNECTION_ERROR',
    `no SQLite binding could be loaded (${failures.join('; ')}). On Node install better-sqlite3 ` +
      '(`npm install better-sqlite3@12`; it builds a native module, so allow its install script: ' +
      '`npm install-scripts approve better-sqlite3`), or run Node 22.13+ (node:sqlite) or Bun',
  )
}

function wrap(driver: SqliteDriverName, db: NativeDatabase): SqliteDatabase {
  return {
    driver,
    exec: (sql) => {
      db.exec(sql)
    },
    prepare(sql) {
      const statement = db.prepare(sql)
      return {
        run: (...params) => {
          statement.run(...params)
        },
        // bun:sqlite answers null for "no row", the others undefined.
        get: (...params) => {
          const row = statement.get(...params)
          return isRecord(row) ? row : undefined
        },
        all: (...params) => {
          const rows = statement.all(...params)
          return Array.isArray(rows) ? rows.filter(isRecord) : []
        },
      }
    },
    close: () => {
      db.close()
    },
  }
}

/** SQLite result codes meaning "the database file cannot be used right now", not "bad SQL". */
const UNAVAILABLE =
  /SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL|READONLY|PERM|NOTADB|CORRUPT)|database is locked|unable to open|disk I\/O|not open|closed/i

/** Maps a binding's error (their shapes differ) to a `StoreError`. */
export function sqliteError(error: unknown, context: string): StoreError {
  if (error instanceof StoreError) return error
  const message = error instanceof Error ? error.message : String(error)
  const code = isRecord(error)
    ? [error.code, error.errstr].filter((x) => typeof x === 'string').join(' ')
    : ''
  const kind = UNAVAILABLE.test(`${code} ${message}`) ? 'CONNECTION_ERROR' : 'QUERY_ERROR'
  return new StoreError(kind, `${context}: ${message}`, { cause: error })
}
