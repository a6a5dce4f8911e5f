import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // FC_SEED / FC_PATH replay a fast-check counterexample (see the file, and CONTRIBUTING.md).
    setupFiles: ['test/helpers/replay.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
})
