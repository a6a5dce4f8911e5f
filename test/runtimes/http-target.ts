import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ConformanceTarget } from '../conformance/suite.js'

/**
 * The conformance target of an in-process server on 127.0.0.1 whose WebSockets are on `/ws`.
 * `stop()` runs `shutdown` (the fixture's own, as its docs snippet shows), then makes sure the
 * HTTP server is closed with its idle connections.
 */
export async function httpTarget(
  httpServer: Server,
  shutdown: () => Promise<void>,
): Promise<ConformanceTarget> {
  if (!httpServer.listening) await once(httpServer, 'listening')
  const { port } = httpServer.address() as AddressInfo
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    httpUrl: `http://127.0.0.1:${port}`,
    async stop() {
      await shutdown()
      if (!httpServer.listening) return
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve())
        httpServer.closeAllConnections()
      })
    },
  }
}
