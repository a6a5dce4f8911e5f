import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { SyncClient } from '../../src/client/types.js'
import { makeClient, readThrough } from '../cluster/support.js'
import { killAll, type NodeProcess, type SpawnedNode, spawnNode, startNode } from '../helpers/node-process.js'
import { waitFor, within } from '../helpers/wait-for.js'

/**
 * One embedded data directory, one server process: real CLI processes on one directory. A second
 * server on a directory in use must refuse to start (naming the directory and the holder's pid),
 * and a lock left by a SIGKILLed server must not keep the next one out.
 */

const DOC = 'lock-doc'
const STARTUP_MS = 150_000
const clients: SyncClient[] = []
const dirs: string[] = []

afterEach(async () => {
  for (const client of clients.splice(0)) client.close()
  await killAll()
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})
afterAll(() => killAll())

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'synckit-lock-'))
  dirs.push(dir)
  return dir
}

async function write(url: string, field: string, value: string): Promise<void> {
  const client = makeClient({ url, dialect: 'sdk', reconnect: false })
  clients.push(client)
  await within(client.connect(), 15_000, `connect ${url}`)
  await within(client.subscribe(DOC), 15_000, 'subscribe')
  // Resolves on the server's ack, which is sent after the store committed.
  await within(client.set(DOC, field, value), 15_000, `write ${field}`)
  client.close()
}

function start(nodeId: string, dir: string, storage = 'embedded'): Promise<NodeProcess> {
  return startNode({ nodeId, storage, dataDir: dir, startupTimeoutMs: STARTUP_MS })
}

/** Waits until the spawned server prints its banner (resolves its ws URL) or exits (undefined). */
async function bannerOrExit(node: SpawnedNode): Promise<string | undefined> {
  const found = await waitFor(
    () => {
      const match = /ws:\/\/127\.0\.0\.1:(\d+)\/ws/.exec(node.stdout())
      if (match) return { url: match[0] }
      return node.exited() ? { url: undefined } : undefined
    },
    { timeoutMs: STARTUP_MS, intervalMs: 25, message: 'the second server to serve or exit' },
  )
  return found.url
}

describe('embedded data directory lock (real processes)', () => {
  it("the issue's scenario: a second server on the directory cannot make acked writes disappear", async () => {
    const dir = await dataDir()
    const a = await start('lock-a', dir)
    await write(a.url, 'a1', 'before B')

    const b = spawnNode({ nodeId: 'lock-b', storage: 'embedded', dataDir: dir })
    const bUrl = await bannerOrExit(b)
    if (bUrl !== undefined) await write(bUrl, 'b1', 'written to B')
    await write(a.url, 'a2', 'after B')

    await a.kill('SIGTERM')
    if (!b.exited()) {
      b.child.kill('SIGTERM')
      await within(b.exit, 30_000, 'B to stop')
    }
    const c = await start('lock-c', dir)
    const state = await readThrough(c.url, 'sdk', [DOC])
    await c.kill('SIGTERM')
    expect(state[DOC]).toMatchObject({ a1: 'before B', a2: 'after B' })
    // B never served: it refused at startup.
    expect(bUrl).toBeUndefined()
  }, 300_000)

  // The default store (SQLite) and PGlite take the same lock.
  for (const storage of ['embedded', 'pglite']) {
    it(`a live holder (--storage ${storage}): the second start exits non-zero naming the directory and the holder pid`, async () => {
      const dir = await dataDir()
      const a = await start('live-a', dir, storage)
      await write(a.url, 'kept', 'yes')
      const b = spawnNode({ nodeId: 'live-b', storage, dataDir: dir })
      const code = await within(b.exit, 60_000, 'the second server to exit')
      expect(code).not.toBe(0)
      expect(code).not.toBeNull()
      expect(b.stderr()).toContain(resolve(dir))
      expect(b.stderr()).toContain(`process ${a.child.pid}`)
      expect(b.stdout()).not.toContain('ws://')
      // The holder is unaffected.
      expect(await readThrough(a.url, 'sdk', [DOC])).toEqual({ [DOC]: { kept: 'yes' } })
      await a.kill('SIGTERM')
      expect(await a.exit).toBe(0)
    }, 300_000)
  }

  it('a stale lock (holder SIGKILLed): the next start takes it over and the data is intact', async () => {
    const dir = await dataDir()
    const a = await start('stale-a', dir)
    await write(a.url, 'acked', 'before the kill')
    await a.kill('SIGKILL')
    expect(a.child.signalCode).toBe('SIGKILL')

    const b = await start('stale-b', dir)
    expect(await readThrough(b.url, 'sdk', [DOC])).toEqual({ [DOC]: { acked: 'before the kill' } })
    // And B now holds the directory: a third start is refused, naming B.
    const c = spawnNode({ nodeId: 'stale-c', storage: 'embedded', dataDir: dir })
    expect(await within(c.exit, 60_000, 'the third server to exit')).not.toBe(0)
    expect(c.stderr()).toContain(`process ${b.child.pid}`)
    await b.kill('SIGTERM')
    expect(await b.exit).toBe(0)
  }, 300_000)
})
