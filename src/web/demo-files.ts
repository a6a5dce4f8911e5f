/**
 * `synckit-engine/demo`: the collaborative demo page and the inspector's as `http.staticFiles`, for
 * Node, Bun and Deno.
 *
 *   createSyncServer({ http: { staticFiles: await loadDemoFiles() } })
 *
 * The files are read once, into memory, from dist/web beside this module (`npm run build` puts
 * them there). Run from source (`npm start`, tests), they are built in memory with esbuild instead.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { StaticFile, StaticFiles } from '../server/static-files.js'

const CONTENT_TYPES: ReadonlyMap<string, string> = new Map([
  ['html', 'text/html; charset=utf-8'],
  ['js', 'text/javascript; charset=utf-8'],
  ['css', 'text/css; charset=utf-8'],
  ['svg', 'image/svg+xml'],
  ['map', 'application/json; charset=utf-8'],
])

/**
 * The demo page at `/` (for browsers), its script, styles and the browser client bundle, and the
 * inspector's page at `/inspector` (served only with `http.inspector`).
 */
export async function loadDemoFiles(): Promise<StaticFiles> {
  if (import.meta.url.endsWith('.ts')) return buildOnFirstRequest()
  const files = byUrlPath(await readBuilt())
  return (path) => files.get(path)
}

/**
 * The inspector's page alone (`/inspector` and its files), for a server that serves the inspector
 * (`http.inspector`) without the demo at `/`.
 */
export async function loadInspectorFiles(): Promise<StaticFiles> {
  const files = await loadDemoFiles()
  return (path) => (path === '/inspector' || path.startsWith('/inspector/') ? files(path) : undefined)
}

/**
 * Run from source: the first request builds the files (well under a second), so a server that
 * no browser visits (a test's cluster node) never pays for it. A failed build is retried.
 */
function buildOnFirstRequest(): StaticFiles {
  let built: Promise<Map<string, StaticFile>> | undefined
  return async (path) => {
    built ??= buildFromSource().then(byUrlPath, (error: unknown) => {
      built = undefined
      console.error('synckit-engine: building the demo from demo/ failed:', error)
      throw error
    })
    return (await built).get(path)
  }
}

function byUrlPath(files: Map<string, Uint8Array>): Map<string, StaticFile> {
  const byPath = new Map<string, StaticFile>()
  for (const [name, body] of files) {
    const contentType = contentTypeOf(name)
    if (contentType) byPath.set(urlPath(name), { body, contentType })
  }
  return byPath
}

function contentTypeOf(name: string): string | undefined {
  const dot = name.lastIndexOf('.')
  return dot === -1 ? undefined : CONTENT_TYPES.get(name.slice(dot + 1))
}

/** `index.html` is served at `/`, `x/index.html` at `/x`, anything else at its own path. */
function urlPath(name: string): string {
  if (name === 'index.html') return '/'
  return `/${name.endsWith('/index.html') ? name.slice(0, -'/index.html'.length) : name}`
}

async function readBuilt(): Promise<Map<string, Uint8Array>> {
  const folder = fileURLToPath(new URL('./web/', import.meta.url))
  let names: string[]
  try {
    names = await readdir(folder, { recursive: true })
  } catch (error) {
    throw new Error(`The demo files are missing from ${folder}: run \`npm run build\``, { cause: error })
  }
  const files = new Map<string, Uint8Array>()
  for (const name of names) {
    const path = join(folder, name)
    const key = relative(folder, path).split('\\').join('/')
    if (contentTypeOf(key)) files.set(key, await readFile(path))
  }
  return files
}

type WebBuild = typeof import('../../scripts/build-web.js')

async function buildFromSource(): Promise<Map<string, Uint8Array>> {
  // A computed specifier: bundlers leave it alone, so the built package never carries esbuild.
  const script = new URL('../../scripts/build-web.ts', import.meta.url).href
  const { buildWebFiles } = (await import(/* @vite-ignore */ script)) as WebBuild
  return buildWebFiles()
}
