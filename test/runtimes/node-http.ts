import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { attachToHttpServer, createRequestListener } from '../../adapters/node.js'
import { createSyncServer } from '../../src/server/index.js'
import type { ConformanceTarget } from '../conformance/suite.js'
import { CONFORMANCE_OPTIONS } from './fixture-options.js'
import { httpTarget } from './http-target.js'

/**
 * In-process Node: the sync server mounted on an existing node:http server that also serves an
 * application of its own (the Express / Fastify / Hono situation, docs/adapters.md): the app owns
 * `request` events and hands the SyncKit routes to `createRequestListener`; WebSocket upgrades on
 * /ws go to `attachToHttpServer`.
 */
export async function startNodeHttpServer(): Promise<ConformanceTarget> {
  const options = CONFORMANCE_OPTIONS // the suite's limits, the same on every runtime
  const sync = createSyncServer(options)
  const syncRoutes = createRequestListener(sync)

  const app = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.url === '/app/hello') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('hello from the app')
      return
    }
    syncRoutes(req, res) // /, /health, /health/live, /health/ready, /metrics, /ws (426)
  }
  const httpServer = createServer(app)
  const attached = attachToHttpServer(sync, httpServer) // WebSocket upgrades on /ws

  httpServer.listen(0, '127.0.0.1')

  return httpTarget(httpServer, async () => {
    await sync.close()
    await attached.close()
  })
}
