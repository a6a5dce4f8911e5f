import { createServer } from 'node:http'
import crossws from 'crossws/adapters/node'
import { createCrosswsHooks, nodeUpgradeRequest } from '../../adapters/crossws.js'
import { createRequestListener } from '../../adapters/node.js'
import { createSyncServer } from '../../src/server/index.js'
import type { ConformanceTarget } from '../conformance/suite.js'
import { CONFORMANCE_OPTIONS } from './fixture-options.js'
import { httpTarget } from './http-target.js'

/**
 * In-process Node with crossws's Node adapter (docs/adapters.md): the hooks take the WebSockets on
 * /ws (after the upgrade check), `createRequestListener` the HTTP routes. In Nitro or Nuxt the
 * same hooks go to `defineWebSocketHandler`.
 */
export async function startCrosswsServer(): Promise<ConformanceTarget> {
  const options = CONFORMANCE_OPTIONS // the suite's limits, the same on every runtime
  const sync = createSyncServer(options)
  const ws = crossws({
    hooks: createCrosswsHooks(sync, { path: '/ws' }), // other paths: 404
    serverOptions: { maxPayload: sync.limits.maxPayloadBytes }, // larger frames: close 1009
  })
  const httpServer = createServer(createRequestListener(sync))
  // nodeUpgradeRequest: the client address reaches the upgrade check (per-IP cap: 429)
  httpServer.on('upgrade', (req, socket, head) => {
    ws.handleUpgrade(req, socket, head, nodeUpgradeRequest(req))
  })

  httpServer.listen(0, '127.0.0.1')

  return httpTarget(httpServer, async () => {
    await sync.close() // flushes, then closes every socket with 1001
    await ws.close() // stops crossws's idle sweep
  })
}
