import type { EngineContext } from './context.js'
import type { Connection, PendingAck } from './state.js'

/**
 * Acks of applied writes. With `durableAcks` they wait for the persist batch that holds the write
 * (`flush.ts`); otherwise they go out at once.
 */
export function queueAck(
  ctx: EngineContext,
  connection: Connection,
  messageId: string | undefined,
  documentId: string,
): void {
  if (messageId === undefined || connection.closed || ctx.options.testOnly?.skipAcks) return
  if (ctx.options.durableAcks) {
    ctx.acksThisTurn.push({ conn: connection.id, messageId, documentId })
  } else {
    ctx.sendTo(connection.id, { type: 'ack', messageId })
  }
}

/**
 * Sends the acks to the connections still open; a server-side write gets its reply with the
 * document as it is now.
 */
export function releaseAcks(ctx: EngineContext, acks: readonly PendingAck[]): void {
  for (const ack of acks) {
    if ('request' in ack) {
      const snapshot = ctx.documents.get(ack.documentId)?.doc?.snapshot()
      ctx.effect({
        kind: 'server-reply',
        id: ack.request,
        reply: snapshot ? { ok: true, snapshot } : { ok: true },
      })
      continue
    }
    const connection = ctx.connections.get(ack.conn)
    if (connection?.closed === false) ctx.send(connection.toSelf, { type: 'ack', messageId: ack.messageId })
  }
}
