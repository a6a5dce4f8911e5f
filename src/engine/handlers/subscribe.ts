import type { SubscribeMessage } from '../../protocol/types.js'
import type { EngineCore } from '../core.js'
import type { Connection, DocumentEntry } from '../state.js'
import { latestTextState, textStateFrames } from '../text-states.js'

/**
 * `subscribe` (PROTOCOL.md §2.4, §10): read access, subscription (document and awareness), then
 * `sync_response` with the full state and a never-empty clock, the other clients' text states,
 * and for SDK 0.1.1 (which ignores `state`) every live field again as a `delta` echo.
 */
export function handleSubscribe(core: EngineCore, connection: Connection, message: SubscribeMessage): void {
  if (!core.checkAccess(connection, 'read', message.documentId)) return
  const entry = core.readyDocument(connection, message, message.documentId)
  if (!entry?.doc) return
  if (!core.subscribe(connection, entry)) return
  sendInitialSync(core, connection, entry, message.id ?? core.options.newId())
}

/** `sync_response`, the kept text states, and (SDK 0.1.1) every field again as a `delta`. */
export function sendInitialSync(
  core: EngineCore,
  connection: Connection,
  entry: DocumentEntry,
  requestId: string,
) {
  sendSyncResponse(core, connection, entry, requestId, undefined)
  sendTextStates(core, connection, entry)
  if (core.options.resendFieldsOnSubscribe) resendFields(core, connection, entry)
}

/**
 * A write from a connection that never subscribed subscribes it (as SyncKit does), and it gets
 * the document first: echoes carry the whole document clock, so a client that adopted them
 * without the state would later resync by a clock that claims fields it never received.
 * Only if it may read the document: a write-only writer (a drop box) gets its ack and errors.
 */
export function subscribeForWrite(
  core: EngineCore,
  connection: Connection,
  entry: DocumentEntry,
  requestId: string | undefined,
): boolean {
  if (connection.closed || connection.subscriptions.has(entry.id)) return true
  if (!core.authorize(connection, 'read', entry.id)) return true
  if (!core.subscribe(connection, entry)) return false
  sendInitialSync(core, connection, entry, requestId ?? core.options.newId())
  return true
}

export function sendSyncResponse(
  core: EngineCore,
  connection: Connection,
  entry: DocumentEntry,
  requestId: string,
  since: Record<string, number> | undefined,
): void {
  const doc = entry.doc
  if (!doc) return
  const textState = latestTextState(entry)
  core.replyTo(connection, {
    type: 'sync_response',
    requestId,
    documentId: entry.id,
    state: doc.state(),
    clock: core.wireClock(entry),
    deltas: since ? core.deltasSince(entry, since) : [],
    ...(textState !== undefined ? { textState } : {}),
  })
}

/** Kept Fugue states, in frames of bounded size: merging all of them is a join (see text-states.ts). */
function sendTextStates(core: EngineCore, connection: Connection, entry: DocumentEntry): void {
  if (entry.textStates.size === 0) return
  for (const deltas of textStateFrames(core, entry)) {
    core.replyTo(connection, { type: 'delta_batch', documentId: entry.id, deltas, isTextOperation: true })
  }
}

function resendFields(core: EngineCore, connection: Connection, entry: DocumentEntry): void {
  const doc = entry.doc
  if (!doc || doc.size === 0) return
  const clock = core.wireClock(entry)
  // Tombstones too: a client that was away during a delete learns it only this way.
  for (const register of doc.registers()) {
    core.replyTo(connection, {
      type: 'delta',
      documentId: entry.id,
      field: register.field,
      value: core.wireValue(register),
      clock,
      clientId: 'server',
    })
  }
}
