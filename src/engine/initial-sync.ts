import type { VectorClock } from '../protocol/types.js'
import type { EngineContext } from './context.js'
import type { Connection, DocumentEntry } from './state.js'
import { latestTextState, textStateFrames } from './text-states.js'
import { deltasSince, wireClock, wireValue } from './wire.js'

/**
 * What a client receives when it starts watching a document, all of it a reply to its own request
 * (see `SendEffect.reply`): the `sync_response`, the kept text states, and for SDK 0.1.1 (which
 * ignores `state`) every field again as a `delta` echo.
 */
export function sendInitialSync(
  ctx: EngineContext,
  connection: Connection,
  entry: DocumentEntry,
  requestId: string,
): void {
  sendSyncResponse(ctx, connection, entry, requestId, undefined)
  sendTextStates(ctx, connection, entry)
  if (ctx.options.resendFieldsOnSubscribe) resendFields(ctx, connection, entry)
}

/**
 * `sync_response` with the full state and a never-empty clock; with `since` (a client's vector
 * clock) its `deltas` hold exactly the registers that clock has not seen.
 */
export function sendSyncResponse(
  ctx: EngineContext,
  connection: Connection,
  entry: DocumentEntry,
  requestId: string,
  since: VectorClock | undefined,
): void {
  const doc = entry.doc
  if (!doc) return
  const textState = latestTextState(entry)
  ctx.replyTo(connection, {
    type: 'sync_response',
    requestId,
    documentId: entry.id,
    state: doc.state(),
    clock: wireClock(ctx, entry),
    deltas: since ? deltasSince(ctx, entry, since) : [],
    ...(textState !== undefined ? { textState } : {}),
  })
}

/** Kept Fugue states, in frames of bounded size: merging all of them is a join (see text-states.ts). */
function sendTextStates(ctx: EngineContext, connection: Connection, entry: DocumentEntry): void {
  if (entry.textStates.size === 0) return
  for (const deltas of textStateFrames(ctx, entry)) {
    ctx.replyTo(connection, { type: 'delta_batch', documentId: entry.id, deltas, isTextOperation: true })
  }
}

function resendFields(ctx: EngineContext, connection: Connection, entry: DocumentEntry): void {
  const doc = entry.doc
  if (!doc || doc.size === 0) return
  const clock = wireClock(ctx, entry)
  // Tombstones too: a client that was away during a delete learns it only this way.
  for (const register of doc.registers()) {
    ctx.replyTo(connection, {
      type: 'delta',
      documentId: entry.id,
      field: register.field,
      value: wireValue(register),
      clock,
      clientId: 'server',
    })
  }
}
