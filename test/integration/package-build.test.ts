import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..', '..')
const run = promisify(execFile)

/** Every subpath export of package.json, built by `npm run build`, loads in ESM and CJS. */
describe('npm run build', () => {
  beforeAll(async () => {
    await run('npm', ['run', 'build', '--silent'], { cwd: root, timeout: 240_000 })
  }, 240_000)

  it('emits ESM, CJS and .d.ts for every subpath export', async () => {
    const pkg = JSON.parse(
      await import('node:fs/promises').then((fs) => fs.readFile(join(root, 'package.json'), 'utf8')),
    )
    const subpaths = Object.entries(pkg.exports as Record<string, unknown>).filter(
      ([key]) => key !== './package.json',
    )
    expect(subpaths.length).toBeGreaterThanOrEqual(13)
    for (const [subpath, target] of subpaths) {
      const { import: esm, require: cjs } = target as Record<string, { types: string; default: string }>
      for (const file of [esm?.types, esm?.default, cjs?.types, cjs?.default]) {
        expect(file && existsSync(join(root, file)), `${subpath}: ${file}`).toBe(true)
      }
    }
  })

  it('the main entry exports the runtime and the engine; codecs and the CRDT have their subpaths', async () => {
    const require = createRequire(import.meta.url)
    const expected: [string, string[]][] = [
      ['index', ['createSyncServer', 'SyncEngine', 'MemoryStore', 'rbacPolicy', 'consoleLogger']],
      ['protocol', ['encodeFrame', 'decodeClientFrame']],
      ['crdt', ['LwwDocument', 'registerWins']],
      ['storage', ['SqlDocumentStore', 'migrate']],
      ['cluster', ['MemoryBroker', 'ClusterBridge']],
    ]
    for (const [entry, names] of expected) {
      const esm = await import(pathToFileURL(join(root, `dist/${entry}.js`)).href)
      const cjs = require(join(root, `dist/${entry}.cjs`))
      for (const name of names) {
        expect(typeof esm[name], `esm ${entry} ${name}`).toBe('function')
        expect(typeof cjs[name], `cjs ${entry} ${name}`).toBe('function')
      }
    }
    const main = await import(pathToFileURL(join(root, 'dist/index.js')).href)
    expect(main.encodeFrame).toBeUndefined()
    expect(Object.keys(main).length).toBeLessThanOrEqual(36)
  })

  it('the transport and client entries load', async () => {
    const load = (name: string) => import(pathToFileURL(join(root, `dist/${name}.js`)).href)
    expect(typeof (await load('ws')).attachWebSocketServer).toBe('function')
    expect(typeof (await load('node')).attachToHttpServer).toBe('function')
    expect(typeof (await load('bun')).createBunHandler).toBe('function')
    expect(typeof (await load('deno')).createDenoHandler).toBe('function')
    expect(typeof (await load('client')).createSyncClient).toBe('function')
  })
})
