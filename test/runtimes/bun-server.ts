/**
 * The conformance fixture for Bun: `Bun.serve` + `createBunHandler` (docs/adapters.md).
 * Run by test/conformance/bun.test.ts as `bun test/runtimes/bun-server.ts`; prints `{"port": n}`.
 */
import { createBunHandler } from '../../adapters/bun.js'
import { createSyncServer } from '../../src/server/index.js'
import { fixtureOptions } from './fixture-select.js'
import { exitWhenParentGoes } from './lifecycle.js'

/** The part of Bun's global this file uses (declared here: no bun-types needed under Node's tsc). */
declare const Bun: {
  serve(options: { port: number; hostname: string } & ReturnType<typeof createBunHandler>): {
    port: number
    stop(closeActiveConnections?: boolean): Promise<void>
  }
}

const options = fixtureOptions() // the suite's limits, the same on every runtime
const sync = createSyncServer(options)
const server = Bun.serve({ port: 0, hostname: '127.0.0.1', ...createBunHandler(sync) })
console.log(JSON.stringify({ port: server.port }))

exitWhenParentGoes(async () => {
  await sync.close() // flushes, then closes every socket with 1001
  await server.stop()
})
