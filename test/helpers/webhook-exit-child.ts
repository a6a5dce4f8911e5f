/**
 * Child process for the "no timer left running" test: a server with webhooks to a receiver that
 * never answers, a write, then close. It must exit by itself, without process.exit().
 */
import { createSyncServer } from '../../src/server/index.js'
import { attachWebhooks } from '../../src/webhooks/index.js'
import { FakeSocket, frame } from '../unit/server-fakes.js'

const [url, secret] = process.argv.slice(2)
if (!url || !secret) throw new Error('usage: webhook-exit-child <url> <secret>')
const sync = createSyncServer({ auth: { required: false } })
const webhooks = attachWebhooks(sync, {
  endpoints: [{ url, secret }],
  coalesceMs: 60_000,
  timeoutMs: 60_000,
  retryBaseMs: 60_000,
  closeTimeoutMs: 300,
  logger: { warn: () => {} },
})
const handle = sync.handleConnection(new FakeSocket(), { remoteAddress: '127.0.0.1' })
handle.receive(frame('delta', { documentId: 'exit-doc', delta: { a: 1 } }, 'json'))
setTimeout(async () => {
  await webhooks.close()
  await sync.close()
  console.log(JSON.stringify(webhooks.stats()))
}, 100)
