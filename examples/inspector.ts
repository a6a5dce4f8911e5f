/**
 * A server with the inspector on: docs/operations.md shows this file, and
 * test/browser/inspector.test.ts opens the inspector it serves in Chromium.
 */
// In an application: `from 'synckit-engine'`, `from 'synckit-engine/demo'` and `from 'synckit-engine/ws'`.
import { attachWebSocketServer } from '../adapters/ws.js'
import { createSyncServer } from '../src/server/index.js'
import { loadDemoFiles } from '../src/web/demo-files.js'

/** The inspector answers an admin's key; the same server refuses it any other key (403). */
export async function serveWithInspector(keys: { admin: string; user: string }, port = 8080) {
  const everything = { canRead: ['*'], canWrite: ['*'] }
  const sync = createSyncServer({
    auth: {
      apiKeys: [
        { key: keys.admin, userId: 'ops', permissions: { ...everything, isAdmin: true } },
        { key: keys.user, userId: 'alice', permissions: { ...everything, isAdmin: false } },
      ],
    },
    http: { staticFiles: await loadDemoFiles(), inspector: true }, // the page is among the demo's files
    nodeId: 'node-inspected',
    limits: { maxMessagesPerMinute: 100_000, maxMessagesPerMinutePerUser: 100_000 }, // the test's load
  })
  const transport = await attachWebSocketServer(sync, { port, host: '127.0.0.1' })
  return { sync, transport } // the inspector is at http://127.0.0.1:<port>/inspector
}
