import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signAccessToken } from '../../src/auth/tokens.js'
import { runCommand } from '../helpers/cli-command.js'
import { type NodeProcess, startNode } from '../helpers/node-process.js'

/**
 * `synckit-engine docs ...` as a real process against a real `synckit-engine start` process
 * with authentication required (so the REST API is on): JSON out, JSON errors, exit codes.
 */

const SECRET = 'cli-docs-secret-0123456789abcdefgh'
const ADMIN_KEY = 'sk_ops_0123456789'

let server: NodeProcess
let admin: Record<string, string>
let readerToken: string

beforeAll(async () => {
  server = await startNode({
    nodeId: 'docs-node',
    storage: 'memory',
    env: {
      SYNCKIT_AUTH_REQUIRED: 'true',
      JWT_SECRET: SECRET,
      SYNCKIT_AUTH_APIKEYS: `ops:${ADMIN_KEY}=admin`,
    },
  })
  expect(server.stdout()).toContain(
    `REST API   ${server.httpUrl.replace('127.0.0.1', '127.0.0.1')}/v1/documents`,
  )
  admin = { SYNCKIT_URL: server.httpUrl, SYNCKIT_API_KEY: ADMIN_KEY }
  readerToken = await signAccessToken(
    { userId: 'reader', permissions: { canRead: ['*'], canWrite: [], isAdmin: false } },
    { secret: SECRET, expiresIn: '1h' },
  )
}, 60_000)

afterAll(async () => {
  await server?.kill()
})

const docs = (args: string[], env: Record<string, string> = admin) => runCommand(['docs', ...args], { env })
const json = (text: string) => JSON.parse(text) as Record<string, unknown>

describe('synckit-engine docs', () => {
  it('set, get, list and delete print the server JSON', async () => {
    const set = await docs(['set', 'doc:1', 'title=Hello', 'count:=3', 'tags:=["a","b"]'])
    expect(set.stderr).toBe('')
    expect(set.code).toBe(0)
    expect(json(set.stdout)).toMatchObject({
      id: 'doc:1',
      fields: { title: 'Hello', count: 3, tags: ['a', 'b'] },
    })

    const removed = await docs(['set', 'doc:1', '--delete', 'count,tags'])
    expect(json(removed.stdout).fields).toEqual({ title: 'Hello' })
    const raw = await docs(['set', 'doc:2', '--json', '{"set":{"n":1}}'])
    expect(json(raw.stdout).fields).toEqual({ n: 1 })

    const got = await docs(['get', 'doc:1', '--meta'])
    expect(got.code).toBe(0)
    expect(json(got.stdout)).toMatchObject({
      fields: { title: 'Hello' },
      meta: { count: { deleted: true }, title: { value: 'Hello', deleted: false } },
    })

    const list = await docs(['list', '--prefix', 'doc:', '--limit', '10'])
    expect(json(list.stdout).documents).toEqual(['doc:1', 'doc:2'])

    const deleted = await docs(['delete', 'doc:1'])
    expect(deleted.code).toBe(0)
    expect(json(deleted.stdout)).toEqual({ deleted: true })
    const gone = await docs(['get', 'doc:1'])
    expect(gone.code).toBe(1)
    expect(gone.stdout).toBe('')
    expect(json(gone.stderr)).toMatchObject({ error: { code: 'NOT_FOUND' } })
  }, 120_000)

  it('prints the JSON error and exits 1: no credentials, a refused token, no server', async () => {
    const anonymous = await docs(['get', 'doc:2'], { SYNCKIT_URL: server.httpUrl })
    expect(anonymous.code).toBe(1)
    expect(json(anonymous.stderr)).toMatchObject({ error: { code: 'AUTH_REQUIRED' } })

    const reader = await docs(['set', 'doc:2', 'x=1', '--url', server.httpUrl, '--token', readerToken], {})
    expect(reader.code).toBe(1)
    expect(json(reader.stderr)).toMatchObject({ error: { code: 'PERMISSION_DENIED' } })
    const readable = await docs(['get', 'doc:2', '--url', server.httpUrl], { SYNCKIT_TOKEN: readerToken })
    expect(readable.code).toBe(0)

    const nowhere = await docs(['get', 'doc:2', '--url', 'http://127.0.0.1:1'], {})
    expect(nowhere.code).toBe(1)
    expect(json(nowhere.stderr)).toMatchObject({ error: { code: 'UNREACHABLE' } })
  }, 120_000)

  it('has its own --help and refuses bad arguments by name', async () => {
    const help = await docs(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('Usage: synckit-engine docs <command>')
    expect((await docs(['get', '--help'])).stdout).toContain('docs set ID FIELD=TEXT')
    const missing = await docs(['get'])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('synckit-engine: Missing ID')
    const unknown = await docs(['rename', 'a'])
    expect(unknown.stderr).toContain('Unknown docs command "rename"')
    const nothing = await docs(['set', 'doc:2'])
    expect(nothing.stderr).toContain('Nothing to write')
    const badJson = await docs(['set', 'doc:2', 'n:=nope'])
    expect(badJson.stderr).toContain('Invalid JSON for n:=')
  }, 120_000)
})
