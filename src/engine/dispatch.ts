import type { ClientMessage } from '../protocol/types.js'
import type { EngineCore } from './core.js'
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
  core: EngineCore,
  connection: Connection,
  message: ClientMessage,
  bytes: number,
): void {
  switch (message.type) {
    case 'auth':
      return handleAuth(core, connection, message)
    case 'subscribe':
      return handleSubscribe(core, connection, message)
    case 'unsubscribe':
      return handleUnsubscribe(core, connection, message)
    case 'sync_request':
      return handleSyncRequest(core, connection, message)
    case 'sync_step1':
      return handleSyncStep1(core, connection, message)
    case 'delta':
      return handleDelta(core, connection, message, bytes)
    case 'delta_batch':
      return handleDeltaBatch(core, connection, message, bytes)
    case 'ack':
      return handleAck(core, connection, message)
    case 'ping':
      return handlePing(core, connection, message)
    case 'awareness_subscribe':
      return handleAwarenessSubscribe(core, connection, message)
    case 'awareness_update':
      return handleAwarenessUpdate(core, connection, message)
    case 'snapshot_request':
    case 'snapshot_upload':
      return handleUnsupported(core, connection, message)
    case 'connect':
    case 'pong':
    case 'delta_batch_chunk':
      // `connect` and `pong` carry nothing; chunks are reassembled before dispatch.
      return
  }
}
