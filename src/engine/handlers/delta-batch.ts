import { isValidClientId } from '../../protocol/index.js'
import { getOwn } from '../../protocol/own.js'
import type { DeltaBatchMessage, JsonObject, RelayOp, TextStateOp } from '../../protocol/types.js'
import { authorize, checkAccess } from '../access.js'
import { queueAck } from '../acks.js'
import type { EngineContext } from '../context.js'
import { readyOrPark } from '../documents.js'
import { clientIdHeldByOther } from '../owners.js'
import { rbacPolicy } from '../rbac.js'
import type { Connection, DocumentEntry } from '../state.js'
import { subscribeForWrite } from '../subscriptions.js'
import { keepTextState, measureTextState, type TextStateToKeep, textStateGrowth } from '../text-states.js'
import { applyWrites, type IncomingWrite, withinDocumentQuota } from '../writes.js'

/**
 * `delta_batch` (docs/protocol.md §5.8): field ops are applied like `delta`; `text-state` ops are kept
 * per client (latest wins, bounded) and relayed; other ops (counter, OR-Set, richtext, legacy
 * text) are relayed to the other subscribers rather than dropped. A relayed or kept op always
 * names the batch's document and a client id its sender may use (see `ownOp`).
 */
export function handleDeltaBatch(
  ctx: EngineContext,
  connection: Connection,
  message: DeltaBatchMessage,
  bytes: number,
): void {
  if (!checkAccess(ctx, connection, 'write', message.documentId)) return
  const entry = readyOrPark(ctx, connection, message, bytes)
  if (!entry?.doc) return
  if (!subscribeForWrite(ctx, connection, entry, message.id)) return
  const messageId = message.messageId ?? message.id
  const writes: IncomingWrite[] = []
  const texts: TextStateToKeep[] = []
  const relays: JsonObject[] = []
  for (const op of message.ops) {
    if (op.kind === 'field') {
      writes.push(op)
      continue
    }
    const owned = ownOp(ctx, connection, entry, op, messageId)
    if (owned === undefined) continue
    if (op.kind === 'text-state') texts.push(measureTextState(owned.clientId ?? connection.id, owned.op))
    else relays.push(owned.op)
  }
  const textBytes = texts.length > 0 ? textStateGrowth(ctx, connection, entry, texts, messageId) : 0
  if (textBytes === undefined) return
  let applied = 0
  if (writes.length > 0) {
    const accepted = applyWrites(ctx, connection, entry, writes, undefined, messageId, textBytes)
    if (accepted === undefined) return
    applied = accepted
  } else if (!withinDocumentQuota(ctx, connection, entry, textBytes, messageId)) {
    return
  }
  for (const text of texts) keepTextState(ctx, connection, entry, text)
  const textOps = texts.map((text) => text.op)
  relay(ctx, connection, entry, textOps, true)
  relay(ctx, connection, entry, relays, false)
  // An ack says "applied": none for a message of which nothing was.
  if (applied + texts.length + relays.length > 0) queueAck(ctx, connection, messageId, entry.id)
}

/**
 * The op as it is relayed and kept: its `documentId` forced to the batch's document (the sender
 * may write this one, not necessarily the one it names), and its client id (a text state's
 * defaults to the connection id) one the sender may use: not `server`, not another owner's
 * presence or kept text state. With a custom policy the op is also checked like a field, with
 * `op` set to `text-state` or the op's type. A refused op is answered with an error and skipped.
 */
function ownOp(
  ctx: EngineContext,
  connection: Connection,
  entry: DocumentEntry,
  op: TextStateOp | RelayOp,
  messageId: string | undefined,
): { op: JsonObject; clientId: string | undefined } | undefined {
  const raw = op.raw
  const kind = op.kind === 'text-state' ? 'text-state' : relayType(raw)
  const details = (extra: JsonObject): JsonObject => ({
    documentId: entry.id,
    op: kind,
    ...extra,
    ...(messageId !== undefined ? { messageId } : {}),
  })
  if (ctx.policy !== rbacPolicy) {
    const field = getOwn(raw, 'field')
    if (!authorize(ctx, connection, 'write', entry.id, typeof field === 'string' ? field : undefined, kind)) {
      ctx.sendError(connection.id, 'Permission denied', 'PERMISSION_DENIED', details({}))
      return undefined
    }
  }
  const named = getOwn(raw, 'clientId')
  const clientId = named === undefined && op.kind === 'text-state' ? connection.id : named
  if (clientId === undefined) return { op: { ...raw, documentId: entry.id }, clientId }
  if (!isValidClientId(clientId)) {
    ctx.sendError(connection.id, 'Invalid client id', 'INVALID_MESSAGE', details({}))
    return undefined
  }
  if (clientIdHeldByOther(ctx, connection, entry.id, clientId)) {
    ctx.sendError(
      connection.id,
      'Client id belongs to another client',
      'PERMISSION_DENIED',
      details({ clientId }),
    )
    return undefined
  }
  return { op: { ...raw, documentId: entry.id, clientId }, clientId }
}

/** The relayed op's `type` for the policy and errors (cut: it is the client's text). */
function relayType(raw: JsonObject): string {
  const type = getOwn(raw, 'type')
  return typeof type === 'string' && type.length > 0 ? type.slice(0, 64) : 'relay'
}

function relay(
  ctx: EngineContext,
  connection: Connection,
  entry: DocumentEntry,
  ops: JsonObject[],
  isTextOperation: boolean,
): void {
  if (ops.length === 0) return
  const others = entry.subscribers.list().filter((id) => id !== connection.id)
  ctx.send(others, {
    type: 'delta_batch',
    documentId: entry.id,
    deltas: ops,
    ...(isTextOperation ? { isTextOperation: true } : {}),
  })
}
