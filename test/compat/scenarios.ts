/**
 * Scenarios run both by the positive tests (against the real server) and by the negative
 * controls (against a server with one behaviour of docs/protocol.md §10.2 switched off), so the controls show that
 * these very checks catch the missing behaviour.
 */
import { MemoryStorage } from '@synckit-js/sdk'
import { converge, JSON_VALUES, type Scope, SdkPeer, type ServerView, show, waitFor } from './harness.js'

export interface ScenarioOptions {
  /** Bound of the final convergence wait. Default 8000 ms. */
  timeoutMs?: number
  /** Lower SDK 0.1.1's fixed 5 s ack timeout (negative controls). */
  ackTimeoutMs?: number
}

/**
 * docs/protocol.md §10.2, ack: every SDK write waits for `ack {messageId}`; `set()` rejects with "ACK timeout"
 * without it. Here one client writes, a second one must see the write.
 */
export async function ackedWriteScenario(
  scope: Scope,
  url: string,
  documentId: string,
  options: ScenarioOptions = {},
): Promise<ServerView> {
  const writer = await SdkPeer.open(scope, url, documentId, { name: 'writer' })
  const reader = await SdkPeer.open(scope, url, documentId, { name: 'reader' })
  if (options.ackTimeoutMs !== undefined) writer.setAckTimeout(options.ackTimeoutMs)
  const sent = writer.set('acked', { value: 1 })
  sent.catch(() => {}) // awaited below; not unhandled if the wait before it fails
  // The write is applied and echoed either way: only the ack decides whether `set()` resolves.
  await waitFor(() => show(reader.state().acked) === '{"value":1}', {
    timeoutMs: 4_000,
    describe: () => `reader to receive 'acked' (has ${show(reader.state())})`,
  })
  await sent
  return converge(url, documentId, [writer, reader], {
    must: { acked: { value: 1 } },
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  })
}

/**
 * docs/protocol.md §10.2, re-sent fields: SDK 0.1.1 ignores `sync_response.state`, so a client subscribing to an
 * existing document learns its fields only from `delta` frames sent after the `sync_response`.
 * A later write acts as a barrier: once the fresh client has it, everything sent before is in.
 */
export async function freshClientScenario(
  scope: Scope,
  url: string,
  documentId: string,
  options: ScenarioOptions = {},
): Promise<ServerView> {
  const writer = await SdkPeer.open(scope, url, documentId, { name: 'writer' })
  await Promise.all(Object.entries(JSON_VALUES).map(([field, value]) => writer.set(field, value)))
  await writer.set('title', 'overwritten once')
  await writer.set('title', 'final title')

  const fresh = await SdkPeer.open(scope, url, documentId, { name: 'fresh' })
  await writer.set('barrier', 'after the fresh client subscribed')
  await waitFor(() => fresh.state().barrier !== undefined, {
    timeoutMs: 4_000,
    describe: () => `fresh to receive 'barrier' (has ${show(fresh.state())})`,
  })
  return converge(url, documentId, [writer, fresh], {
    must: { ...JSON_VALUES, title: 'final title', barrier: 'after the fresh client subscribed' },
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  })
}

/**
 * docs/protocol.md §10.2, echo clock: an SDK client applies an echo through its local LWW with (max clock entry,
 * 'server') against its own (counter, clientId). A client whose counter is 100 (local history,
 * e.g. after using a SyncKit server) keeps its own value unless echoes carry a clock that high.
 */
export async function historyClientScenario(
  scope: Scope,
  url: string,
  documentId: string,
  options: ScenarioOptions = {},
): Promise<ServerView> {
  // What SDK 0.1.1 persisted after 100 writes of its own: `loadFromStored` resumes the counter.
  const storage = new MemoryStorage()
  await storage.set(documentId, {
    id: documentId,
    data: {},
    version: { 'client-old': 100 },
    updatedAt: Date.now(),
  })
  const old = await SdkPeer.open(scope, url, documentId, {
    name: 'sdk-with-history',
    clientId: 'client-old',
    storage,
  })
  const other = await SdkPeer.open(scope, url, documentId, { name: 'sdk-new', clientId: 'client-new' })

  await old.set('shared', 'from the client with history')
  await waitFor(() => other.state().shared === 'from the client with history', {
    timeoutMs: 4_000,
    describe: () => `sdk-new to receive 'shared' (has ${show(other.state())})`,
  })
  await other.set('shared', 'later write wins')
  await other.set('barrier', 1)
  await waitFor(() => old.state().barrier === 1, {
    timeoutMs: 4_000,
    describe: () => `sdk-with-history to receive 'barrier' (has ${show(old.state())})`,
  })
  return converge(url, documentId, [old, other], {
    must: { shared: 'later write wins', barrier: 1 },
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  })
}
