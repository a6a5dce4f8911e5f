/**
 * Logging: the `logger` option takes anything with pino's interface (pino itself, or a wrapper
 * around another library). What the server logs goes through `safeLogger` first, so no token,
 * cookie, password or credentialed URL reaches a log line, whatever the host's logger does.
 */

/** pino's interface: an object of fields first, then the message. */
export interface Logger {
  /** Details for debugging (refusals, client errors). */
  debug(obj: object, msg?: string): void
  /** Notable events (a slow client closed). */
  info(obj: object, msg?: string): void
  /** Something failed and will be retried or worked around. */
  warn(obj: object, msg?: string): void
  /** A failure (store, broker, auth, hooks). */
  error(obj: object, msg?: string): void
  /** A logger whose lines all carry `bindings`. */
  child(bindings: object): Logger
}

/** Levels of `consoleLogger`, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent']

/**
 * The default logger: one line per entry on the console (`console.error` for warnings and
 * errors), `synckit-engine <level>: <message> <fields as JSON>`. Default level `warn`.
 */
export function consoleLogger(options: { level?: LogLevel } = {}, bindings: object = {}): Logger {
  const level = options.level ?? 'warn'
  if (!LEVELS.includes(level)) throw new RangeError(`Invalid log level ${JSON.stringify(level)}`)
  const threshold = LEVELS.indexOf(level)
  const write =
    (at: Exclude<LogLevel, 'silent'>) =>
    (obj: object, msg?: string): void => {
      if (LEVELS.indexOf(at) < threshold) return
      const fields = { ...bindings, ...obj }
      const json = Object.keys(fields).length > 0 ? ` ${safeStringify(fields)}` : ''
      const line = `synckit-engine ${at}: ${msg ?? ''}${json}`
      if (at === 'error' || at === 'warn') console.error(line)
      else console.log(line)
    }
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (more) => consoleLogger({ level }, { ...bindings, ...more }),
  }
}

/** Field names whose values are never logged. */
const SECRET_KEY = /token|cookie|password|passwd|secret|authorization|api[-_]?key|credential/i
/** `scheme://user:password@` in any string: the password goes. */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/gi
/** `Bearer <token>` in any string. */
const BEARER = /\b(bearer)\s+[A-Za-z0-9\-._~+/]+=*/gi
/** Credentials in a query string (`?token=`, the way browsers send tokens on a WebSocket). */
const QUERY_SECRET = /([?&](?:token|access_token|api_key|apikey|key|password|secret)=)[^&#\s]*/gi
const MAX_DEPTH = 4

/** Secrets out of a string: credentialed URLs and bearer tokens. */
export function redact(text: string): string {
  return text.replace(URL_PASSWORD, '$1:***@').replace(BEARER, '$1 ***').replace(QUERY_SECRET, '$1***')
}

/**
 * The host's logger behind a guard: fields are redacted (secret-looking names dropped, URLs and
 * errors scrubbed), errors become `{ type, message, code, stack }`, and a logger that throws
 * never breaks the server.
 */
export function safeLogger(logger: Logger): Logger {
  const guard =
    (method: 'debug' | 'info' | 'warn' | 'error') =>
    (obj: object, msg?: string): void => {
      try {
        logger[method](sanitize(obj, 0) as object, msg === undefined ? undefined : redact(msg))
      } catch {
        // Logging must never take the server down.
      }
    }
  return {
    debug: guard('debug'),
    info: guard('info'),
    warn: guard('warn'),
    error: guard('error'),
    child: (bindings) => {
      try {
        return safeLogger(logger.child(sanitize(bindings, 0) as object))
      } catch {
        return safeLogger(logger)
      }
    },
  }
}

function sanitize(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redact(value)
  if (typeof value !== 'object' || value === null) return value
  if (value instanceof Error) return serializeError(value, depth)
  if (depth >= MAX_DEPTH) return '[object]'
  if (Array.isArray(value)) return value.slice(0, 50).map((item) => sanitize(item, depth + 1))
  const result: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) {
    result[key] = SECRET_KEY.test(key) ? '[redacted]' : sanitize(item, depth + 1)
  }
  return result
}

function serializeError(error: Error, depth: number): Record<string, unknown> {
  const result: Record<string, unknown> = { type: error.name, message: redact(error.message) }
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' || typeof code === 'number') result.code = code
  if (error.stack) result.stack = redact(error.stack)
  if (error.cause !== undefined && depth < MAX_DEPTH) result.cause = sanitize(error.cause, depth + 1)
  return result
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value)
  } catch {
    return '"[unserializable]"'
  }
}
