import { runtimeBinary, spawnRuntime } from './spawn-runtime.js'
import { defineConformanceSuite } from './suite.js'

/** Real Bun (the `bun` devDependency) running test/runtimes/bun-server.ts. */
defineConformanceSuite('Bun (Bun.serve + createBunHandler)', () =>
  spawnRuntime({
    name: 'bun',
    command: runtimeBinary('bun'),
    args: ['test/runtimes/bun-server.ts'],
    env: { NO_COLOR: '1' },
  }),
)
