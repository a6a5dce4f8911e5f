import type { Server } from 'node:http'
import express from 'express'
import { attachToHttpServer, createRequestListener } from '../../adapters/node.js'
import { createSyncServer } from '../../src/server/index.js'
import type { ConformanceTarget } from '../conformance/suite.js'
import { CONFORMANCE_OPTIONS } from './fixture-options.js'
import { httpTarget } from './http-target.js'

/** Express 5 (docs/adapters.md): the app's own routes first, the SyncKit routes after them. */
export async function startExpress(): Promise<ConformanceTarget> {
  const options = CONFORMANCE_OPTIONS // the suite's limits, the same on every runtime
  const sync = createSyncServer(options)
  const app = express()
  app.get('/app/hello', (_req, res) => {
    res.type('text/plain').send('hello from the app')
  })
  app.use(createRequestListener(sync)) // /, /health, /health/ready, /metrics, /ws (426); else 404
  const httpServer: Server = app.listen(0, '127.0.0.1')
  const attached = attachToHttpServer(sync, httpServer) // WebSocket upgrades on /ws

  return httpTarget(httpServer, async () => {
    await sync.close()
    await attached.close()
  })
}
