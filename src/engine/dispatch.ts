import type { EngineContext } from './context.js'
import { handleAwarenessSubscribe, handleAwarenessUpdate } from './handlers/awareness.js'
import { handleDelta } from './handlers/delta.js'
import { handleDeltaBatch } from './handlers/delta-batch.js'
import { handleSubscribe } from './handlers/subscribe.js'
import { handleSyncRequest, handleSyncStep1 } from './handlers/sync-request.js'
import { handleUnsubscribe } from './handlers/unsubscribe.js'
import { handleUnsupported } from './handlers/unsupported.js'
import type { Connection, DispatchedMessage } from './state.js'
import { unreachable } from './unreachable.js'

/**
 * Routes an authenticated connection's message to its handler (one module per message type). It
 * runs when the message arrives, when it is replayed after authentication (`receive.ts`), and
 * when it waited for its document to load (`resolve.ts`). A new message type gets a case here.
 */
export function dispatch(
  ctx: EngineContext,
  connection: Connection,
  message: DispatchedMessage,
  bytes: number,
): void {
  switch (message.type) {
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
    case 'awareness_subscribe':
      return handleAwarenessSubscribe(ctx, connection, message)
    case 'awareness_update':
      return handleAwarenessUpdate(ctx, connection, message)
    case 'snapshot_request':
    case 'snapshot_upload':
      return handleUnsupported(ctx, connection, message)
    default:
      return unreachable(message, 'message type')
  }
}
