import type { Server } from 'node:http'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { attachToHttpServer } from '../../adapters/node.js'
import { createSyncServer } from '../../src/server/index.js'
import type { ConformanceTarget } from '../conformance/suite.js'
import { CONFORMANCE_OPTIONS } from './fixture-options.js'
import { httpTarget } from './http-target.js'

/** Hono on `@hono/node-server` (docs/adapters.md): Hono speaks Request/Response, as `sync.fetch` does. */
export async function startHono(): Promise<ConformanceTarget> {
  const options = CONFORMANCE_OPTIONS // the suite's limits, the same on every runtime
  const sync = createSyncServer(options)
  const app = new Hono()
  app.get('/app/hello', (c) => c.text('hello from the app'))
  app.all('*', (c) => sync.fetch(c.req.raw)) // /, /health, /health/ready, /metrics, /ws (426); else 404
  const httpServer = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server
  const attached = attachToHttpServer(sync, httpServer) // WebSocket upgrades on /ws

  return httpTarget(httpServer, async () => {
    await sync.close()
    await attached.close()
  })
}
