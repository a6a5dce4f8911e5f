import Fastify from 'fastify'
import { attachToHttpServer, createRequestListener } from '../../adapters/node.js'
import { createSyncServer } from '../../src/server/index.js'
import type { ConformanceTarget } from '../conformance/suite.js'
import { CONFORMANCE_OPTIONS } from './fixture-options.js'
import { httpTarget } from './http-target.js'

/** Fastify 5 (docs/adapters.md): requests no route of the app matches go to the SyncKit routes. */
export async function startFastify(): Promise<ConformanceTarget> {
  const options = CONFORMANCE_OPTIONS // the suite's limits, the same on every runtime
  const sync = createSyncServer(options)
  const syncRoutes = createRequestListener(sync)
  const app = Fastify()
  app.get('/app/hello', async (_request, reply) => reply.type('text/plain').send('hello from the app'))
  app.setNotFoundHandler((request, reply) => {
    reply.hijack() // the SyncKit routes write the raw response themselves
    syncRoutes(request.raw, reply.raw)
  })
  const attached = attachToHttpServer(sync, app.server) // WebSocket upgrades on /ws
  await app.listen({ port: 0, host: '127.0.0.1' })

  return httpTarget(app.server, async () => {
    await sync.close()
    await attached.close()
    await app.close()
  })
}
