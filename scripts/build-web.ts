/**
 * The browser files the server can serve, built with esbuild (the bundler tsup runs):
 *
 *   client/synckit-client.js   `synckit-engine/client` as one ES module, no Node built-ins
 *   demo/app.js, demo/app.css  the demo (demo/), importing the client bundle above
 *   index.html, demo/icon.svg  copied from demo/
 *   inspector/app.js, inspector/app.css  the inspector (inspector/)
 *   inspector/index.html, inspector/icon.svg  copied from inspector/ and demo/
 *
 * `npm run build` writes them to dist/web (`tsx scripts/build-web.ts [outDir]`); `npm start`,
 * which runs from source, builds them in memory instead (`loadDemoFiles`), so the demo there is
 * never stale and needs no build step.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type BuildOptions, build, type Plugin } from 'esbuild'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** Where esbuild pretends to write: output paths are made relative to it. */
const OUT = join(ROOT, '.tmp', 'web')
const COPIED = {
  'index.html': 'demo/index.html',
  'demo/icon.svg': 'demo/icon.svg',
  'inspector/index.html': 'inspector/index.html',
  'inspector/icon.svg': 'demo/icon.svg',
}

/** The demo imports the public client by its package name; in the page it is the bundle beside it. */
const clientBundle: Plugin = {
  name: 'synckit-client-bundle',
  setup(builder) {
    builder.onResolve({ filter: /^synckit-engine\/client$/ }, () => ({
      path: '../client/synckit-client.js',
      external: true,
    }))
  },
}

/** Every file, by its path under the output folder (which is also its URL path). */
export async function buildWebFiles(): Promise<Map<string, Uint8Array>> {
  const common: BuildOptions = {
    absWorkingDir: ROOT,
    outdir: OUT,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: 'linked',
    write: false,
    logLevel: 'silent',
  }
  const builds = await Promise.all([
    build({ ...common, entryPoints: { 'client/synckit-client': 'src/client/index.ts' } }),
    build({ ...common, entryPoints: { 'demo/app': 'demo/main.ts' }, plugins: [clientBundle] }),
    build({ ...common, entryPoints: { 'inspector/app': 'inspector/main.ts' } }),
  ])
  const files = new Map<string, Uint8Array>()
  for (const file of builds.flatMap((result) => result.outputFiles ?? [])) {
    files.set(relative(OUT, file.path).split('\\').join('/'), file.contents)
  }
  for (const [to, from] of Object.entries(COPIED)) files.set(to, await readFile(join(ROOT, from)))
  return files
}

async function writeWebFiles(outDir: string): Promise<void> {
  const files = await buildWebFiles()
  await rm(outDir, { recursive: true, force: true })
  for (const [name, contents] of files) {
    const path = join(outDir, name)
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, contents)
  }
  console.log(`build-web: ${files.size} files in ${relative(ROOT, outDir) || '.'}`)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await writeWebFiles(join(ROOT, process.argv[2] ?? 'dist/web'))
}
