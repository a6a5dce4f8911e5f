/**
 * The conformance fixture for Deno: `Deno.serve` + `createDenoHandler` (docs/adapters.md).
 * Run by test/conformance/deno.test.ts (flags there); prints `{"port": n}`.
 */
import { createDenoHandler } from '../../adapters/deno.js'
import { createSyncServer } from '../../src/server/index.js'
import { fixtureOptions } from './fixture-select.js'
import { exitWhenParentGoes } from './lifecycle.js'

/** The part of Deno's global this file uses (declared here: no Deno types needed under Node's tsc). */
declare const Deno: {
  serve(
    options: { port: number; hostname: string; onListen?(address: { port: number }): void },
    handler: ReturnType<typeof createDenoHandler>,
  ): { shutdown(): Promise<void> }
}

const options = fixtureOptions() // the suite's limits, the same on every runtime
const sync = createSyncServer(options)
const handler = createDenoHandler(sync)
const server = Deno.serve(
  { port: 0, hostname: '127.0.0.1', onListen: ({ port }) => console.log(JSON.stringify({ port })) },
  handler,
)

exitWhenParentGoes(async () => {
  await sync.close() // flushes, then closes every socket with 1001
  await handler.socketsClosed() // before Deno's shutdown closes them its own way
  await server.shutdown()
})
