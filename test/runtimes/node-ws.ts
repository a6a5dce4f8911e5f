import { attachWebSocketServer } from '../../adapters/ws.js'
import { createSyncServer } from '../../src/server/index.js'
import type { ConformanceTarget } from '../conformance/suite.js'
import { CONFORMANCE_OPTIONS } from './fixture-options.js'

/** In-process Node with the `ws` adapter: its own HTTP server, upgrades on /ws (docs/adapters.md). */
export async function startWsServer(): Promise<ConformanceTarget> {
  const options = CONFORMANCE_OPTIONS // the suite's limits, the same on every runtime
  const sync = createSyncServer(options)
  const { port, close } = await attachWebSocketServer(sync, { port: 0, host: '127.0.0.1' })

  return {
    url: `ws://127.0.0.1:${port}/ws`,
    httpUrl: `http://127.0.0.1:${port}`,
    async stop() {
      await sync.close() // flushes, then closes every socket with 1001
      await close() // stops listening
    },
  }
}
