import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { builtinModules } from 'node:module'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { build, type Plugin } from 'esbuild'
import { Miniflare, type MiniflareOptions } from 'miniflare'
import { REPO_ROOT } from '../conformance/spawn-runtime.js'

/**
 * Real workerd for the Cloudflare tests: a Worker entry bundled the way wrangler bundles it
 * (esbuild, the `workerd` / `worker` / `browser` export conditions, ES modules), run by miniflare,
 * which brings the workerd binary from npm. No `nodejs_compat` flag: a Node import fails the
 * bundle here, or the Worker at startup.
 */

/** What must never enter a Worker bundle: Node's built-ins and the Node-only drivers. */
export const NODE_ONLY_PACKAGES = ['ws', 'postgres', 'ioredis', '@electric-sql/pglite']

const NODE_BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]))

/** The newest date this workerd supports: keep in step with examples/cloudflare/wrangler.toml. */
export const COMPATIBILITY_DATE = '2026-04-20'

function isNodeOnly(specifier: string): boolean {
  if (specifier.startsWith('node:') || NODE_BUILTINS.has(specifier)) return true
  return NODE_ONLY_PACKAGES.some((name) => specifier === name || specifier.startsWith(`${name}/`))
}

/** Fails the build on any import of Node's built-ins or a Node-only package, naming the importer. */
export const refuseNodeImports: Plugin = {
  name: 'refuse-node-imports',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /.*/ }, (args) => {
      if (!isNodeOnly(args.path)) return undefined
      return {
        errors: [{ text: `Node-only import "${args.path}" in a Worker bundle (from ${args.importer})` }],
      }
    })
  },
}

/** The Worker bundle of `entry` (a path from the repository root) as ES module source. */
export async function bundleWorker(entry: string, alias: Record<string, string> = {}): Promise<string> {
  const result = await build({
    entryPoints: [resolve(REPO_ROOT, entry)],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    alias,
    plugins: [refuseNodeImports],
    logLevel: 'silent',
  })
  const output = result.outputFiles[0]
  if (!output) throw new Error(`esbuild produced no output for ${entry}`)
  return output.text
}

export interface RunningWorker {
  mf: Miniflare
  /** `http://127.0.0.1:<port>` */
  httpUrl: string
  /** `ws://127.0.0.1:<port>` */
  wsOrigin: string
  dispose(): Promise<void>
}

/** Runs `code` (a bundled Worker) in workerd, listening on a free port of 127.0.0.1. */
export async function runWorker(
  code: string,
  options: Omit<MiniflareOptions, 'modules' | 'script' | 'scriptPath' | 'port' | 'host'>,
): Promise<RunningWorker> {
  const dir = await mkdtemp(join(tmpdir(), 'synckit-workerd-'))
  const scriptPath = join(dir, 'worker.mjs')
  await writeFile(scriptPath, code)
  const mf = new Miniflare({
    compatibilityDate: COMPATIBILITY_DATE,
    ...options,
    modules: true,
    modulesRoot: dir,
    scriptPath,
    port: 0,
    host: '127.0.0.1',
  } as MiniflareOptions)
  let url: URL
  try {
    url = await mf.ready
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
  const httpUrl = url.origin
  let disposed: Promise<void> | undefined
  return {
    mf,
    httpUrl,
    wsOrigin: httpUrl.replace(/^http/, 'ws'),
    dispose() {
      disposed ??= (async () => {
        await mf.dispose()
        await rm(dir, { recursive: true, force: true })
      })()
      return disposed
    },
  }
}
