/**
 * `CONNECTION_ERROR`: the database could not be reached (or the store is closed); retrying later
 * may succeed. `QUERY_ERROR`: the database answered with an error, or returned or was given data
 * the store cannot accept.
 */
export type StoreErrorCode = 'CONNECTION_ERROR' | 'QUERY_ERROR'

/** Every failure of a store method rejects with this: a store never resolves empty on failure. */
export class StoreError extends Error {
  readonly code: StoreErrorCode
  /** Postgres SQLSTATE, when the server reported one (e.g. `42P01`). */
  readonly sqlState: string | undefined

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown; sqlState?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'StoreError'
    this.code = code
    this.sqlState = options?.sqlState
  }
}

/** Who holds a data directory: the process that has it open, as it recorded itself. */
export interface LockHolder {
  /** Its process id. */
  pid: number
  /** The machine it runs on (a pid means nothing on another host). */
  hostname: string
  /** ISO time the holder took the lock. */
  since: string
}

/** A second process (or a second store in this one) tried to open a data directory in use. */
export class DataDirectoryLockedError extends StoreError {
  override readonly name = 'DataDirectoryLockedError'
  readonly dataDir: string
  /** Undefined when the holder had not written its pid file yet (it took the lock a moment ago). */
  readonly holder: LockHolder | undefined

  constructor(dataDir: string, holder: LockHolder | undefined) {
    const who =
      holder === undefined
        ? 'another process (its pid file is not written yet)'
        : `process ${holder.pid} on ${holder.hostname} (since ${holder.since})`
    super(
      'CONNECTION_ERROR',
      `data directory ${dataDir} is in use by ${who}. One server process per data directory: ` +
        'stop that process first, or give this one another directory',
    )
    this.dataDir = dataDir
    this.holder = holder
  }
}

// SQLSTATE classes/codes meaning "the server or the session is unavailable", not "the SQL failed".
const CONNECTION_SQLSTATE = /^(08|28|3D|53300|57P0[1-3])/
const NETWORK_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
])

const prop = (error: unknown, key: string): unknown =>
  typeof error === 'object' && error !== null ? (error as Record<string, unknown>)[key] : undefined

/** Maps a driver error (`postgres`, PGlite, Node sockets) to a `StoreError`. */
export function toStoreError(error: unknown, context: string): StoreError {
  if (error instanceof StoreError) return error
  const message = error instanceof Error ? error.message : String(error)
  const code = prop(error, 'code')
  // Server-reported errors carry a severity and a 5-character SQLSTATE.
  if (typeof code === 'string' && prop(error, 'severity') !== undefined) {
    const kind = CONNECTION_SQLSTATE.test(code) ? 'CONNECTION_ERROR' : 'QUERY_ERROR'
    return new StoreError(kind, `${context}: ${message}`, { cause: error, sqlState: code })
  }
  const network =
    typeof code === 'string' &&
    (code.startsWith('CONNECT') || NETWORK_ERRNO.has(code) || prop(error, 'syscall') !== undefined)
  return new StoreError(network ? 'CONNECTION_ERROR' : 'QUERY_ERROR', `${context}: ${message}`, {
    cause: error,
  })
}

/** SQLSTATEs after which re-running the same idempotent statement is the right answer. */
export function isRetryable(error: StoreError): boolean {
  return error.sqlState === '40P01' || error.sqlState === '40001'
}
