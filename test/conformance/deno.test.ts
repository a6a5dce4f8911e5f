import { runtimeBinary, spawnRuntime } from './spawn-runtime.js'
import { defineConformanceSuite } from './suite.js'

/**
 * Real Deno (the `deno` devDependency) running test/runtimes/deno-server.ts, offline:
 * - `--node-modules-dir=manual`: npm packages (eventemitter3) come from the repo's node_modules,
 *   as installed by npm; nothing is downloaded;
 * - `--sloppy-imports`: the sources import `./x.js` for `./x.ts` (the Node/TypeScript convention);
 * - `--no-lock`: no deno.lock is written into the repo.
 */
export const DENO_ARGS = [
  'run',
  '--node-modules-dir=manual',
  '--sloppy-imports',
  '--no-lock',
  '--no-prompt',
  '--allow-net=127.0.0.1',
  '--allow-env',
  '--allow-read',
  'test/runtimes/deno-server.ts',
]

defineConformanceSuite('Deno (Deno.serve + createDenoHandler)', () =>
  spawnRuntime({
    name: 'deno',
    command: runtimeBinary('deno'),
    args: DENO_ARGS,
    env: { NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1' },
  }),
)
