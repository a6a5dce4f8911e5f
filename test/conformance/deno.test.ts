import { DENO_ARGS, runtimeBinary, spawnRuntime } from './spawn-runtime.js'
import { defineConformanceSuite } from './suite.js'

/** Real Deno (the `deno` devDependency) running test/runtimes/deno-server.ts (flags: `DENO_ARGS`). */
defineConformanceSuite('Deno (Deno.serve + createDenoHandler)', () =>
  spawnRuntime({
    name: 'deno',
    command: runtimeBinary('deno'),
    args: DENO_ARGS,
    env: { NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1' },
  }),
)
