import { WebSocket } from 'ws'
import { createSyncClient } from '../../src/client/index.js'
import type { SyncClient, SyncClientOptions } from '../../src/client/types.js'
import { FakeSyncServer } from './fake-sync-server.js'

/** Clients and fake servers made by a test, torn down in `afterEach`. */
export class ClientFixture {
  readonly clients: SyncClient[] = []
  readonly servers: FakeSyncServer[] = []
  readonly errors: Error[] = []

  async server(port = 0): Promise<FakeSyncServer> {
    const server = await FakeSyncServer.start(port)
    this.servers.push(server)
    return server
  }

  client(server: FakeSyncServer, options: Partial<SyncClientOptions> = {}): SyncClient {
    const client = createSyncClient({
      url: server.url,
      WebSocket,
      requestTimeoutMs: 2000,
      reconnect: { initialDelayMs: 20, maxDelayMs: 200, factor: 2 },
      ...options,
    })
    client.on('error', (error) => this.errors.push(error))
    this.clients.push(client)
    return client
  }

  async teardown(): Promise<void> {
    for (const client of this.clients) client.close()
    await Promise.all(this.servers.map((server) => server.close()))
  }
}
