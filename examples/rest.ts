/**
 * An embedded server with the REST API: docs/rest.md shows this file, and
 * test/integration/rest-docs.test.ts runs the doc's curl examples against it.
 */
// In an application: `from 'synckit-engine'` and `from 'synckit-engine/ws'`.
import { type AttachedWebSocketServer, attachWebSocketServer } from '../adapters/ws.js'
import { createSyncServer, type SyncServer } from '../src/server/index.js'

export async function serveWithRest(
  jwtSecret: string,
  opsKey: string,
  port = 8080,
): Promise<{ sync: SyncServer; http: AttachedWebSocketServer }> {
  const sync = createSyncServer({
    nodeId: 'node-a',
    auth: {
      jwt: { secret: jwtSecret }, // Authorization: Bearer <jwt>
      apiKeys: [
        // X-API-Key: <key>; an admin may list and delete
        { key: opsKey, userId: 'ops', permissions: { canRead: ['*'], canWrite: ['*'], isAdmin: true } },
      ],
    },
    rest: { maxBodyBytes: 256 * 1024 }, // or `rest: true` (1 MiB)
  })
  // The WebSocket endpoint and every HTTP route, /v1 included, on one port.
  const http = await attachWebSocketServer(sync, { port, host: '127.0.0.1' })
  return { sync, http }
}
