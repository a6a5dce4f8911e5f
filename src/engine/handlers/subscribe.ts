import type { SubscribeMessage } from '../../protocol/types.js'
import { checkAccess } from '../access.js'
import type { EngineContext } from '../context.js'
import { readyOrPark } from '../documents.js'
import { sendInitialSync } from '../initial-sync.js'
import type { Connection } from '../state.js'
import { subscribe } from '../subscriptions.js'

/**
 * `subscribe` (docs/protocol.md §5.3, §10.2): read access, subscription (document and awareness), then
 * `sync_response` with the full state and a never-empty clock, the other clients' text states,
 * and for SDK 0.1.1 (which ignores `state`) every live field again as a `delta` echo.
 */
export function handleSubscribe(ctx: EngineContext, connection: Connection, message: SubscribeMessage): void {
  if (!checkAccess(ctx, connection, 'read', message.documentId)) return
  const entry = readyOrPark(ctx, connection, message)
  if (!entry?.doc) return
  if (!subscribe(ctx, connection, entry)) return
  connection.dialect ??= 'sdk'
  sendInitialSync(ctx, connection, entry, message.id ?? ctx.options.newId())
}
