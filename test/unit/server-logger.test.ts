import { afterEach, describe, expect, it, vi } from 'vitest'
import { createSyncServer, type SyncServer, type SyncServerOptions } from '../../src/server/index.js'
import { consoleLogger, type Logger, redact, safeLogger } from '../../src/server/logger.js'
import { FakeSocket, frame, waitFor } from './server-fakes.js'

/** A logger that keeps every line as JSON text, the way a log pipeline would see it. */
function capture(): { logger: Logger; lines: string[] } {
  const lines: string[] = []
  const make = (bindings: object): Logger => {
    const at = (level: string) => (obj: object, msg?: string) =>
      lines.push(JSON.stringify({ level, msg, ...bindings, ...obj }))
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (b) => make({ ...bindings, ...b }),
    }
  }
  return { logger: make({}), lines }
}

const servers: SyncServer[] = []
function server(options: SyncServerOptions): SyncServer {
  const created = createSyncServer({ auth: { required: false }, ...options })
  servers.push(created)
  return created
}
afterEach(async () => {
  vi.restoreAllMocks()
  for (const s of servers.splice(0)) await s.close()
})

const failingStore = (message: string) => ({
  load: async () => {
    throw Object.assign(new Error(message), { code: 'CONNECTION_ERROR' })
  },
  save: async () => {},
})

describe('logging', () => {
  it('logs a failing store.load once on the console by default, with no error listener', async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {})
    const sync = server({ store: failingStore('connection refused') })
    expect(sync.listenerCount('error')).toBe(0)
    const socket = new FakeSocket()
    sync.handleConnection(socket, {}).receive(frame('subscribe', { documentId: 'doc-1' }))
    await waitFor(() => socket.ofType('error').length === 1)
    expect(consoleError).toHaveBeenCalledTimes(1)
    const line = String(consoleError.mock.calls[0]?.[0])
    expect(line).toMatch(/^synckit-engine error: load failed /)
    expect(line).toContain('"documentId":"doc-1"')
    expect(line).toContain('connection refused')
  })

  it('logs to the host logger with the document or connection concerned', async () => {
    const { logger, lines } = capture()
    const sync = server({ logger, store: failingStore('boom') })
    const socket = new FakeSocket()
    sync.handleConnection(socket, {}).receive(frame('subscribe', { documentId: 'doc-2' }))
    await waitFor(() => lines.some((l) => l.includes('load failed')))
    const entry = JSON.parse(lines.find((l) => l.includes('load failed')) ?? '{}')
    expect(entry).toMatchObject({
      level: 'error',
      operation: 'load',
      documentId: 'doc-2',
      err: { message: 'boom', code: 'CONNECTION_ERROR' },
    })
  })

  it('never logs tokens, cookies, passwords or credentialed URLs', async () => {
    const { logger, lines } = capture()
    const sync = server({
      logger,
      store: failingStore('cannot reach postgres://synckit:hunter2@db.internal:5432/app'),
      auth: {
        authenticate: (request) => {
          throw new Error(`session lookup failed for ${request.url} (Bearer sekret-token)`)
        },
      },
    })
    const headers = { authorization: 'Bearer sekret-token', cookie: 'session=cookie-secret' }
    await sync.upgrade({ url: '/ws?token=url-secret', headers })
    const socket = new FakeSocket()
    const host = sync.handleConnection(
      socket,
      { url: '/ws?token=url-secret', headers },
      {
        principal: { userId: 'u', permissions: { canRead: ['*'], canWrite: ['*'], isAdmin: false } },
      },
    )
    host.receive(frame('subscribe', { documentId: 'doc-3' }))
    await waitFor(() => lines.some((l) => l.includes('load failed')))
    safeLogger(logger).warn({ token: 'field-token', nested: { password: 'pw', apiKey: 'k' } }, 'x')
    const all = lines.join('\n')
    expect(lines.length).toBeGreaterThanOrEqual(3)
    for (const secret of [
      'hunter2',
      'sekret-token',
      'cookie-secret',
      'url-secret',
      'field-token',
      '"pw"',
      '"k"',
    ]) {
      expect(all).not.toContain(secret)
    }
    expect(all).toContain('postgres://synckit:***@db.internal')
  })

  it('a throwing logger never breaks the server', async () => {
    const broken: Logger = {
      debug() {
        throw new Error('x')
      },
      info() {
        throw new Error('x')
      },
      warn() {
        throw new Error('x')
      },
      error() {
        throw new Error('x')
      },
      child() {
        return broken
      },
    }
    const sync = server({ logger: broken, store: failingStore('down') })
    const socket = new FakeSocket()
    sync.handleConnection(socket, {}).receive(frame('subscribe', { documentId: 'd' }))
    await waitFor(() => socket.ofType('error').length === 1)
  })

  it('consoleLogger filters by level, and redact scrubs strings', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {})
    const error = vi.spyOn(console, 'error').mockImplementation(() => {})
    const logger = consoleLogger({ level: 'info' }).child({ nodeId: 'n1' })
    logger.debug({}, 'hidden')
    logger.info({ a: 1 }, 'shown')
    logger.error({}, 'bad')
    expect(log.mock.calls.map((c) => c[0])).toEqual(['synckit-engine info: shown {"nodeId":"n1","a":1}'])
    expect(error.mock.calls.map((c) => c[0])).toEqual(['synckit-engine error: bad {"nodeId":"n1"}'])
    expect(redact('redis://:pw@h:6379 /ws?a=1&token=abc Bearer x.y.z')).toBe(
      'redis://:***@h:6379 /ws?a=1&token=*** Bearer ***',
    )
    expect(() => createSyncServer({ logger: {} as Logger })).toThrow(/logger: expected pino's interface/)
  })
})
