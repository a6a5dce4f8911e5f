import type { ClientMessage } from '../protocol/types.js'
import type { EngineContext } from './context.js'
import { handleAuth } from './handlers/auth.js'
import { handleAwarenessSubscribe, handleAwarenessUpdate } from './handlers/awareness.js'
import { handleDelta } from './handlers/delta.js'
import { handleDeltaBatch } from './handlers/delta-batch.js'
import { handleAck, handlePing, handleUnsupported } from './handlers/misc.js'
import { handleSubscribe } from './handlers/subscribe.js'
import { handleSyncRequest, handleSyncStep1 } from './handlers/sync-request.js'
import { handleUnsubscribe } from './handlers/unsubscribe.js'
import type { Connection } from './state.js'

/** Routes an authenticated connection's message to its handler (one module per message type). */
export function dispatch(
  ctx: EngineContext,
  connection: Connection,
  message: ClientMessage,
  bytes: number,
): void {
  switch (message.type) {
    case 'auth':
      return handleAuth(ctx, connection, message)
    case 'subscribe':
      return handleSubscribe(ctx, connection, message)
    case 'unsubscribe':
      return handleUnsubscribe(ctx, connection, message)
    case 'sync_request':
      return handleSyncRequest(ctx, connection, message)
    case 'sync_step1':
      return handleSyncStep1(ctx, connection, message)
    case 'delta':
      return handleDelta(ctx, connection, message, bytes)
    case 'delta_batch':
      return handleDeltaBatch(ctx, connection, message, bytes)
    case 'ack':
      return handleAck(ctx, connection, message)
    case 'ping':
      return handlePing(ctx, connection, message)
    case 'awareness_subscribe':
      return handleAwarenessSubscribe(ctx, connection, message)
    case 'awareness_update':
      return handleAwarenessUpdate(ctx, connection, message)
    case 'snapshot_request':
    case 'snapshot_upload':
      return handleUnsupported(ctx, connection, message)
    case 'connect':
    case 'pong':
    case 'delta_batch_chunk':
      // `connect` and `pong` carry nothing; chunks are reassembled before dispatch.
      return
  }
}
