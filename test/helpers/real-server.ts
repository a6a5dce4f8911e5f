import { afterEach } from 'vitest'
import { WebSocket } from 'ws'
import { attachWebSocketServer } from '../../adapters/ws.js'
import { createSyncClient } from '../../src/client/index.js'
import type { SyncClient, SyncClientOptions } from '../../src/client/types.js'
import { createSyncServer } from '../../src/server/index.js'
import type { SyncServerOptions } from '../../src/server/options.js'

/**
 * Clients against a real server (ws transport on 127.0.0.1, port 0), torn down after each test
 * of the file that calls this.
 */
export function realServerClients(): {
  start(options?: SyncServerOptions): Promise<string>
  client(url: string, options?: Partial<SyncClientOptions>): SyncClient
} {
  const cleanups: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  return {
    async start(options = { auth: { required: false } }) {
      const server = createSyncServer(options)
      const transport = await attachWebSocketServer(server, { port: 0, host: '127.0.0.1' })
      cleanups.push(async () => {
        await server.close()
        await transport.close()
      })
      return `ws://127.0.0.1:${transport.port}/ws`
    },
    client(url, options = {}) {
      const c = createSyncClient({ url, WebSocket, requestTimeoutMs: 5000, reconnect: false, ...options })
      cleanups.push(() => c.close())
      return c
    },
  }
}
