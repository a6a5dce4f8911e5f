import { defineConfig } from 'tsup'

/** Public entry points: one per subpath export in package.json. */
const entry = {
  index: 'src/index.ts',
  client: 'src/client/index.ts',
  protocol: 'src/protocol/index.ts',
  crdt: 'src/crdt/index.ts',
  storage: 'src/storage/index.ts',
  cluster: 'src/cluster/index.ts',
  testing: 'src/testing/index.ts',
  ws: 'adapters/ws.ts',
  node: 'adapters/node.ts',
  bun: 'adapters/bun.ts',
  deno: 'adapters/deno.ts',
  cloudflare: 'adapters/cloudflare.ts',
  crossws: 'adapters/crossws.ts',
  postgres: 'adapters/postgres.ts',
  redis: 'adapters/redis.ts',
  demo: 'src/web/demo-files.ts',
  webhooks: 'src/webhooks/index.ts',
  backup: 'src/backup/index.ts',
}

/** Then `scripts/build-web.ts` (run by `npm run build`) adds the browser files in dist/web. */
export default defineConfig([
  {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    splitting: true,
    treeshake: true,
    // `import.meta.url` in the CJS build of `demo` (it finds dist/web beside itself).
    shims: true,
  },
  {
    // The CLI is ESM only: `bin` points at dist/cli.js.
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'es2022',
    splitting: false,
  },
])
