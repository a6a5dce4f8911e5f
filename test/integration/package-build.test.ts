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
      ['webhooks', ['attachWebhooks', 'registerWebhookMetrics', 'webhooksFromEnv']],
      ['backup', ['exportDocuments', 'importDocuments', 'importFromSyncKit', 'exportCommand']],
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

  it('the built CLI runs its commands (dist/cli.js, the package bin)', async () => {
    const help = await run(process.execPath, [join(root, 'dist/cli.js'), 'export', '--help'], { cwd: root })
    expect(help.stdout).toMatch(/^Usage: synckit-engine export \[--out FILE\]/)
    const refused = await run(process.execPath, [join(root, 'dist/cli.js'), 'import'], { cwd: root }).catch(
      (error: { code?: number; stderr?: string }) => error,
    )
    expect(refused).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('synckit-engine: Missing FILE'),
    })
  })

  it('the transport and client entries load', async () => {
    const load = (name: string) => import(pathToFileURL(join(root, `dist/${name}.js`)).href)
    expect(typeof (await load('ws')).attachWebSocketServer).toBe('function')
    expect(typeof (await load('node')).attachToHttpServer).toBe('function')
    expect(typeof (await load('bun')).createBunHandler).toBe('function')
    expect(typeof (await load('deno')).createDenoHandler).toBe('function')
    expect(typeof (await load('client')).createSyncClient).toBe('function')
    expect(typeof (await load('cloudflare')).createSyncWorker).toBe('function')
    expect(typeof (await load('crossws')).createCrosswsHooks).toBe('function')
  })

  it('dist/cloudflare.js and the chunks it imports name no Node built-in or Node-only package', async () => {
    const { readFile } = await import('node:fs/promises')
    const { dirname } = await import('node:path')
    const forbidden = /^(node:|ws$|ws\/|postgres$|ioredis$|@electric-sql\/pglite)/
    const seen = new Set<string>()
    const bare: string[] = []
    const visit = async (file: string): Promise<void> => {
      if (seen.has(file)) return
      seen.add(file)
      const code = await readFile(file, 'utf8')
      for (const [, specifier] of code.matchAll(
        /(?:^|[\s;])(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]/g,
      )) {
        if (specifier === undefined) continue
        if (specifier.startsWith('.')) await visit(join(dirname(file), specifier))
        else bare.push(specifier)
      }
      for (const [, specifier] of code.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
        if (specifier !== undefined && !specifier.startsWith('.')) bare.push(specifier)
      }
    }
    await visit(join(root, 'dist/cloudflare.js'))
    expect(seen.size).toBeGreaterThan(1)
    expect(bare.filter((specifier) => forbidden.test(specifier))).toEqual([])
    expect([...new Set(bare)].sort()).toEqual(['eventemitter3', 'jose'])
  })

  it('ships the demo and the inspector in dist/web with a self-contained browser client, and serves it from memory', async () => {
    const { readFile } = await import('node:fs/promises')
    const client = await readFile(join(root, 'dist/web/client/synckit-client.js'), 'utf8')
    // One ES module a browser can load as is: nothing left to resolve (esbuild puts static imports
    // first), no dynamic import, no require, no Node built-in.
    expect(client.slice(0, 300)).not.toMatch(/\bimport\b/)
    expect(client).not.toMatch(/\bimport\(|\brequire\(|["']node:/)
    expect(client).toMatch(/export\s*{[^}]*createSyncClient/)
    const app = await readFile(join(root, 'dist/web/demo/app.js'), 'utf8')
    expect(app).toContain('from"../client/synckit-client.js"')

    const { loadDemoFiles, loadInspectorFiles } = await import(pathToFileURL(join(root, 'dist/demo.js')).href)
    const files = await loadDemoFiles()
    for (const [path, type] of [
      ['/', 'text/html; charset=utf-8'],
      ['/demo/app.js', 'text/javascript; charset=utf-8'],
      ['/demo/app.css', 'text/css; charset=utf-8'],
      ['/client/synckit-client.js', 'text/javascript; charset=utf-8'],
      ['/inspector', 'text/html; charset=utf-8'],
      ['/inspector/app.js', 'text/javascript; charset=utf-8'],
      ['/inspector/app.css', 'text/css; charset=utf-8'],
    ]) {
      expect((await files(path))?.contentType, path).toBe(type)
    }
    expect(await files('/../package.json')).toBeUndefined()
    const inspector = await loadInspectorFiles()
    expect((await inspector('/inspector/app.js'))?.contentType).toBe('text/javascript; charset=utf-8')
    expect(await inspector('/')).toBeUndefined()
    const cjs = createRequire(import.meta.url)(join(root, 'dist/demo.cjs'))
    expect((await (await cjs.loadDemoFiles())('/'))?.contentType).toBe('text/html; charset=utf-8')
  })
})
