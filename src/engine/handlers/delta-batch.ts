import type { DeltaBatchMessage, JsonObject } from '../../protocol/types.js'
import type { EngineCore } from '../core.js'
import type { Connection, DocumentEntry } from '../state.js'
import { applyWrites, type IncomingWrite } from '../writes.js'
import { subscribeForWrite } from './subscribe.js'

/**
 * `delta_batch` (PROTOCOL.md §2.9): field ops are applied like `delta`; `text-state` ops are kept
 * per client (latest wins, bounded) and relayed; other ops (counter, OR-Set, richtext, legacy
 * text) are relayed to the other subscribers rather than dropped.
 */
export function handleDeltaBatch(
  core: EngineCore,
  connection: Connection,
  message: DeltaBatchMessage,
  bytes: number,
): void {
  if (!core.checkAccess(connection, 'write', message.documentId)) return
  const entry = core.readyDocument(connection, message, message.documentId, bytes)
  if (!entry?.doc) return
  if (!subscribeForWrite(core, connection, entry, message.id)) return
  const writes: IncomingWrite[] = []
  const textOps: JsonObject[] = []
  const relayOps: JsonObject[] = []
  for (const op of message.ops) {
    if (op.kind === 'field') writes.push(op)
    else if (op.kind === 'text-state')
      textOps.push(keepTextState(core, entry, op.raw, op.clientId ?? connection.id))
    else relayOps.push(op.raw)
  }
  if (writes.length > 0 && !applyWrites(core, connection, entry, writes, undefined)) return
  relay(core, connection, entry, textOps, true)
  relay(core, connection, entry, relayOps, false)
  core.queueAck(connection, message.messageId ?? message.id, entry.id)
}

function keepTextState(
  core: EngineCore,
  entry: DocumentEntry,
  raw: JsonObject,
  clientId: string,
): JsonObject {
  const op: JsonObject = { ...raw, clientId }
  entry.textStates.delete(clientId)
  entry.textStates.set(clientId, op)
  // Map iteration order is insertion order: the first key is the least recently updated client.
  while (entry.textStates.size > core.limits.maxTextStatesPerDocument) {
    const oldest = entry.textStates.keys().next().value
    if (oldest === undefined) break
    entry.textStates.delete(oldest)
  }
  return op
}

function relay(
  core: EngineCore,
  connection: Connection,
  entry: DocumentEntry,
  ops: JsonObject[],
  isTextOperation: boolean,
): void {
  if (ops.length === 0) return
  const others = entry.subscribers.list().filter((id) => id !== connection.id)
  core.send(others, {
    type: 'delta_batch',
    documentId: entry.id,
    deltas: ops,
    ...(isTextOperation ? { isTextOperation: true } : {}),
  })
}
