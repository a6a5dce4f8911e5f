import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createSyncClient } from '../../src/client/index.js'
import type { SyncClient } from '../../src/client/types.js'
import { FORMAT_FILE } from '../../src/storage/layout.js'
import { createPgliteStore } from '../../src/storage/pglite.js'
import { register } from '../../src/testing/store-fixtures.js'
import { waitFor, within } from '../helpers/wait-for.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

interface Run {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exit: Promise<number | null>
}

/** `node --import tsx src/cli.ts`: the signal reaches the server itself, not an npx wrapper. */
function runCli(args: string[], env: Record<string, string> = {}): Run {
  const base: Record<string, string | undefined> = { ...process.env, NODE_ENV: 'development' }
  for (const name of Object.keys(base)) {
    if (name.startsWith('SYNCKIT_') || name.startsWith('JWT_') || name === 'DATABASE_URL') delete base[name]
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString()
  })
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, stdout: () => out, stderr: () => err, exit }
}

/** The `ws://127.0.0.1:<port>/ws` match of the run's banner, once printed. */
function banner(run: Run, timeoutMs: number): Promise<RegExpExecArray> {
  return waitFor(() => /ws:\/\/127\.0\.0\.1:(\d+)\/ws/.exec(run.stdout()), {
    timeoutMs,
    message: `the banner (stdout: ${run.stdout()} stderr: ${run.stderr()})`,
  })
}

/** A client (SDK dialect) connected to `url` and subscribed to `documentId`; closed after the test. */
async function subscribedClient(url: string, documentId: string): Promise<SyncClient> {
  const client = createSyncClient({ url, WebSocket, reconnect: false, requestTimeoutMs: 10_000 })
  clients.push(client)
  await within(client.connect(), 10_000, `connect ${url}`)
  await within(client.subscribe(documentId), 10_000, `subscribe ${documentId}`)
  return client
}

const running: Run[] = []
const clients: SyncClient[] = []
afterEach(async () => {
  for (const client of clients.splice(0)) client.close()
  for (const run of running.splice(0)) {
    if (run.child.exitCode === null) run.child.kill('SIGKILL')
    await within(run.exit, 5000, 'child exit').catch(() => {})
  }
})

describe('synckit-engine CLI', () => {
  it('starts on the port it reports, serves health and clients, and exits 0 on SIGTERM', async () => {
    const run = runCli(['--port', '0', '--host', '127.0.0.1', '--storage', 'memory'])
    running.push(run)
    const match = await banner(run, 20_000)
    const port = Number(match[1])
    expect(port).toBeGreaterThan(0)
    expect(run.stdout()).toContain(`http://127.0.0.1:${port}/health`)
    expect(run.stdout()).toContain('(development)')
    expect(run.stdout()).toMatch(/ANONYMOUS ACCESS IS ENABLED/)
    expect(run.stdout()).toContain("createSyncClient({ url: 'ws://127.0.0.1:")

    const health = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5000) })
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ status: 'healthy' })

    // Development mode serves the demo to browsers at /; API clients keep the JSON there.
    expect(run.stdout()).toContain(`Demo       http://127.0.0.1:${port}/`)
    const page = await fetch(`http://127.0.0.1:${port}/`, {
      headers: { accept: 'text/html' },
      signal: AbortSignal.timeout(5000),
    })
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(await page.text()).toContain('<script type="module" src="/demo/app.js"></script>')
    const info = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5000) })
    expect(await info.json()).toMatchObject({ name: 'synckit-engine' })
    // The inspector comes with it, open in anonymous development mode.
    expect(run.stdout()).toContain(`Inspector  http://127.0.0.1:${port}/inspector   (open: anonymous mode)`)
    const inspector = await fetch(`http://127.0.0.1:${port}/inspector`, { signal: AbortSignal.timeout(5000) })
    expect(await inspector.text()).toContain('<script type="module" src="/inspector/app.js"></script>')
    const stats = await fetch(`http://127.0.0.1:${port}/inspector/api/stats`, {
      signal: AbortSignal.timeout(5000),
    })
    expect(stats.status).toBe(200)

    // Both client dialects against the real server: they converge on every write.
    const url = `ws://127.0.0.1:${port}/ws`
    const sdk = createSyncClient({ url, WebSocket, reconnect: false, requestTimeoutMs: 5000 })
    const legacy = createSyncClient({
      url,
      WebSocket,
      dialect: 'legacy',
      reconnect: false,
      requestTimeoutMs: 5000,
    })
    clients.push(sdk, legacy)
    await within(Promise.all([sdk.connect(), legacy.connect()]), 10_000, 'connect')
    await within(Promise.all([sdk.subscribe('cli-doc'), legacy.subscribe('cli-doc')]), 10_000, 'subscribe')
    await within(sdk.setMany('cli-doc', { a: 1, b: 'x' }), 10_000, 'sdk write')
    await within(legacy.set('cli-doc', 'c', null), 10_000, 'legacy write')
    await within(legacy.delete('cli-doc', 'b'), 10_000, 'legacy delete')
    const expected = { a: 1, c: null }
    await waitFor(() => JSON.stringify(sdk.get('cli-doc')) === JSON.stringify(expected), { timeoutMs: 5000 })
    await waitFor(() => JSON.stringify(legacy.get('cli-doc')) === JSON.stringify(expected), {
      timeoutMs: 5000,
    })
    expect(await within(sdk.ping(), 5000, 'ping')).toBeLessThan(5000)

    run.child.kill('SIGTERM')
    expect(await within(run.exit, 15_000, 'exit after SIGTERM')).toBe(0)
    expect(run.stdout()).toContain('SIGTERM received, shutting down')
  })

  it('keeps data across restarts with the embedded store (the default), no service needed', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'synckit-cli-'))
    try {
      const start = async () => {
        const run = runCli(['--port', '0', '--host', '127.0.0.1', '--data', dataDir])
        running.push(run)
        const match = await banner(run, 90_000)
        expect(run.stdout()).toContain(`embedded (SQLite in ${dataDir})`)
        return { run, url: `ws://127.0.0.1:${match[1]}/ws` }
      }
      const first = await start()
      const writer = await subscribedClient(first.url, 'kept')
      // Resolves on the durable ack: the write is in the store.
      await within(writer.setMany('kept', { title: 'survives', n: 0, empty: '' }), 10_000, 'write')
      writer.close()
      first.run.child.kill('SIGTERM')
      expect(await within(first.run.exit, 20_000, 'first exit')).toBe(0)

      const second = await start()
      const reader = await subscribedClient(second.url, 'kept')
      expect(reader.get('kept')).toEqual({ title: 'survives', n: 0, empty: '' })
      second.run.child.kill('SIGTERM')
      expect(await within(second.run.exit, 20_000, 'second exit')).toBe(0)
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  }, 240_000)

  it('logs JSON lines with pino in production, at LOG_LEVEL, without secrets', async () => {
    const run = runCli(['--port', '0', '--host', '127.0.0.1', '--storage', 'memory'], {
      NODE_ENV: 'production',
      SYNCKIT_AUTH_REQUIRED: 'false',
      SYNCKIT_ALLOWED_ORIGINS: 'https://app.example.com',
      LOG_LEVEL: 'debug',
    })
    running.push(run)
    const match = await waitFor(() => /ws:\/\/127\.0\.0\.1:(\d+)\/ws/.exec(run.stdout()), {
      timeoutMs: 20_000,
      message: `the banner (stdout: ${run.stdout()} stderr: ${run.stderr()})`,
    })
    const ws = new WebSocket(`ws://127.0.0.1:${match[1]}/ws?token=url-secret`, {
      origin: 'https://evil.test',
    })
    await new Promise((resolve) => ws.once('error', resolve))
    const line = await waitFor(
      () =>
        run
          .stdout()
          .split('\n')
          .find((l) => l.startsWith('{') && l.includes('upgrade refused')),
      { timeoutMs: 10_000, message: `a JSON log line (stdout: ${run.stdout()})` },
    )
    expect(JSON.parse(line)).toMatchObject({ level: 20, msg: 'upgrade refused', status: 403 })
    expect(run.stdout()).not.toContain('url-secret')
  })

  it('development mode binds 127.0.0.1 unless HOST is set, and the banner says how to expose it', async () => {
    const run = runCli(['--port', '0', '--storage', 'memory'])
    running.push(run)
    const match = await waitFor(() => /ws:\/\/127\.0\.0\.1:(\d+)\/ws/.exec(run.stdout()), {
      timeoutMs: 20_000,
      message: `the banner (stdout: ${run.stdout()} stderr: ${run.stderr()})`,
    })
    const port = Number(match[1])
    expect(run.stdout()).toContain('HOST=0.0.0.0')
    expect(await tcpConnects('127.0.0.1', port)).toBe(true)
    // Another loopback address reaches a wildcard listener, never one bound to 127.0.0.1 alone.
    expect(await tcpConnects('127.0.0.2', port)).toBe(false)
  })

  it('production mode keeps binding every interface', async () => {
    const run = runCli(['--port', '0', '--storage', 'memory'], {
      NODE_ENV: 'production',
      JWT_SECRET: 's'.repeat(32),
    })
    running.push(run)
    const match = await waitFor(() => /listening on 0\.0\.0\.0:(\d+)/.exec(run.stdout()), {
      timeoutMs: 20_000,
      message: `the banner (stdout: ${run.stdout()} stderr: ${run.stderr()})`,
    })
    expect(run.stdout()).not.toContain('HOST=0.0.0.0')
    expect(await tcpConnects('127.0.0.2', Number(match[1]))).toBe(true)
  })

  it('upgrading: a PGlite data directory from an earlier version is migrated to SQLite at startup', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'synckit-cli-upgrade-'))
    try {
      // What `npm start` wrote before the SQLite store: PGlite files and no format marker.
      const pglite = await createPgliteStore({ dataDir })
      await pglite.save([
        {
          documentId: 'old-doc',
          registers: [
            register('title', 'from PGlite', { ms: 1 }),
            register('gone', null, { ms: 2, deleted: true }),
          ],
          clock: { 'node-a': 2 },
        },
      ])
      await pglite.close()
      await rm(join(dataDir, FORMAT_FILE))

      const run = runCli(['--port', '0', '--host', '127.0.0.1', '--data', dataDir])
      running.push(run)
      const match = await banner(run, 120_000)
      expect(run.stdout()).toMatch(/migrated 1 documents .*pglite-backup/)
      const reader = await subscribedClient(match[0], 'old-doc')
      expect(reader.get('old-doc')).toEqual({ title: 'from PGlite' })
      run.child.kill('SIGTERM')
      expect(await within(run.exit, 20_000, 'exit')).toBe(0)
      expect(JSON.parse(await readFile(join(dataDir, FORMAT_FILE), 'utf8'))).toMatchObject({
        store: 'sqlite',
      })
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  }, 240_000)

  it('--help prints every setting and exits 0', async () => {
    const run = runCli(['--help'])
    running.push(run)
    expect(await within(run.exit, 20_000, 'exit')).toBe(0)
    expect(run.stdout()).toContain('PORT')
    expect(run.stdout()).toContain('SYNCKIT_AUTH_REQUIRED')
    expect(run.stdout()).toContain('--storage')
  })

  it('refuses production without JWT_SECRET: exit 1 naming JWT_SECRET', async () => {
    const run = runCli(['--port', '0'], { NODE_ENV: 'production' })
    running.push(run)
    expect(await within(run.exit, 20_000, 'exit')).toBe(1)
    expect(run.stderr()).toContain('JWT_SECRET')
    expect(run.stdout()).toBe('')
  })

  it('reports a bad setting and exits 1', async () => {
    const run = runCli([], { PORT: 'abc' })
    running.push(run)
    expect(await within(run.exit, 20_000, 'exit')).toBe(1)
    expect(run.stderr()).toContain('Invalid PORT "abc": expected an integer between 0 and 65535')
  })
})

/** Whether a TCP connection to host:port is accepted (a refusal or an error answers false). */
function tcpConnects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 5000 })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
    socket.once('timeout', () => done(false))
  })
}
