import { ChunkAssembler, decodeClientFrame, detectFormat } from '../protocol/index.js'
import type { ClientMessage, DeltaBatchChunkMessage, ErrorCode } from '../protocol/types.js'
import { isAuthenticated } from './auth-state.js'
import { takeFromBucket } from './buckets.js'
import type { EngineContext } from './context.js'
import { dispatch } from './dispatch.js'
import { handleAuth } from './handlers/auth.js'
import { handlePing } from './handlers/ping.js'
import { takeMessageToken } from './rate-limits.js'
import type { Connection, DispatchedMessage } from './state.js'
import type { ConnectionId } from './types.js'

/**
 * A frame for `conn`, dropped once it closed: decode, answer malformed frames precisely, then run
 * the per-message pipeline.
 */
export function receiveFrame(ctx: EngineContext, conn: ConnectionId, frame: string | Uint8Array): void {
  const connection = ctx.connections.get(conn)
  if (!connection || connection.closed) return
  if (connection.format === undefined) connection.format = detectFormat(frame)
  const result = decodeClientFrame(frame, ctx.frameDecoding)
  countInbound(ctx, result.ok ? result.message.type : 'invalid', result.bytes)
  if (!result.ok) {
    const { message, code, documentId } = result.error
    refuseInvalid(ctx, connection, message, code, documentId)
    return
  }
  processMessage(ctx, connection, result.message, result.bytes)
}

/** A message decoded elsewhere (`SyncEngine.receiveMessage`): counted, then the same pipeline. */
export function receiveDecoded(
  ctx: EngineContext,
  conn: ConnectionId,
  message: ClientMessage,
  bytes: number,
): void {
  const connection = ctx.connections.get(conn)
  if (!connection || connection.closed) return
  countInbound(ctx, message.type, bytes)
  processMessage(ctx, connection, message, bytes)
}

/** Messages per type and bytes received, for the runtime's metrics. */
function countInbound(ctx: EngineContext, type: string, bytes: number): void {
  ctx.messagesIn.set(type, (ctx.messagesIn.get(type) ?? 0) + 1)
  ctx.bytesIn += bytes
}

/**
 * Every frame costs something. `ping` has a bucket of its own (`maxPingsPerMinute`), so a spent
 * message budget never stops the heartbeat; beyond it pings go unanswered. Acks and pongs of our
 * own broadcasts (the second dialect acks every delta) cost nothing and do nothing. Everything
 * else, chunk frames included, takes a token from the message buckets before any work is done.
 */
function processMessage(
  ctx: EngineContext,
  connection: Connection,
  message: ClientMessage,
  bytes: number,
): void {
  if (message.type === 'ping') {
    if (takeFromBucket(connection.pings, ctx.limits.maxPingsPerMinute, ctx.now)) {
      handlePing(ctx, connection, message)
    }
    return
  }
  if (message.type === 'ack' || message.type === 'pong') return
  if (!takeMessageToken(ctx, connection)) {
    // A refused write names its messageId, so the writer fails fast instead of waiting for a timeout.
    const messageId = 'messageId' in message ? (message.messageId ?? message.id) : undefined
    ctx.sendError(
      connection.id,
      'Too many messages. Please slow down.',
      'RATE_LIMIT_EXCEEDED',
      messageId !== undefined && (message.type === 'delta' || message.type === 'delta_batch')
        ? { messageId }
        : undefined,
    )
    return
  }
  processPaidMessage(ctx, connection, message, bytes)
}

/** What costs a token: everything but `ping` (a bucket of its own), `ack` and `pong` (free). */
type PaidMessage = Exclude<ClientMessage, { type: 'ping' | 'ack' | 'pong' }>

/**
 * The per-message pipeline, for a message already paid for: chunks are reassembled (the whole
 * message costs what its chunks cost), then authentication gating (frames before auth are
 * buffered, bounded, and replayed).
 */
function processPaidMessage(ctx: EngineContext, connection: Connection, message: PaidMessage, bytes: number) {
  if (message.type === 'delta_batch_chunk') {
    // Reassembly buffers up to a chunk set's cap: not for connections nobody has authenticated.
    if (!isAuthenticated(connection)) {
      ctx.sendError(connection.id, 'Not authenticated', 'NOT_AUTHENTICATED')
      return
    }
    return receiveChunk(ctx, connection, message)
  }
  if (message.type === 'auth') return handleAuth(ctx, connection, message)
  if (message.type === 'connect') return
  if (!isAuthenticated(connection)) {
    bufferUntilAuthenticated(ctx, connection, message, bytes)
    return
  }
  dispatch(ctx, connection, message, bytes)
}

/**
 * An invalid frame is answered precisely, up to `maxInvalidFrames` a minute; past that the
 * connection is closed instead (a client that keeps sending garbage is broken or hostile).
 */
function refuseInvalid(
  ctx: EngineContext,
  connection: Connection,
  message: string,
  code: ErrorCode,
  documentId?: string,
): void {
  if (!takeFromBucket(connection.invalidFrames, ctx.limits.maxInvalidFrames, ctx.now)) {
    ctx.requestClose(connection.id, 1008, 'Too many invalid messages')
    return
  }
  ctx.sendError(connection.id, message, code, documentId ? { documentId } : undefined)
}

function bufferUntilAuthenticated(
  ctx: EngineContext,
  connection: Connection,
  message: DispatchedMessage,
  bytes: number,
) {
  const { maxPreAuthFrames, maxPreAuthBytes, maxDocumentsPerConnection } = ctx.limits
  if (connection.preAuth.length >= maxPreAuthFrames || connection.preAuthBytes + bytes > maxPreAuthBytes) {
    refusePreAuth(ctx, connection, 'Too many messages before authentication')
    return
  }
  // Replay would refuse documents past the per-connection cap anyway: do not hold them that long.
  const documentId = 'documentId' in message ? message.documentId : undefined
  if (documentId !== undefined) {
    if (connection.preAuthDocuments === undefined) connection.preAuthDocuments = new Set()
    const documents = connection.preAuthDocuments
    if (!documents.has(documentId) && documents.size >= maxDocumentsPerConnection) {
      refusePreAuth(ctx, connection, 'Too many documents before authentication')
      return
    }
    documents.add(documentId)
  }
  connection.preAuth.push({ message, bytes })
  connection.preAuthBytes += bytes
}

function refusePreAuth(ctx: EngineContext, connection: Connection, error: string): void {
  ctx.sendError(connection.id, error, 'AUTH_REQUIRED')
  ctx.requestClose(connection.id, 1008, 'Authentication required')
}

function receiveChunk(ctx: EngineContext, connection: Connection, chunk: DeltaBatchChunkMessage): void {
  if (!connection.chunks) {
    const { maxChunksPerSet, maxChunkSetBytes, maxChunkSetsPerConnection, chunkSetTimeoutMs } = ctx.limits
    connection.chunks = new ChunkAssembler({
      maxChunksPerSet,
      maxSetBytes: maxChunkSetBytes,
      maxSets: maxChunkSetsPerConnection,
      timeoutMs: chunkSetTimeoutMs,
    })
  }
  const outcome = connection.chunks.add(chunk, ctx.now)
  if (outcome.status === 'pending') return
  if (outcome.status === 'error') {
    const { message, code } = outcome.error
    if (code === 'INVALID_MESSAGE') refuseInvalid(ctx, connection, message, code)
    else ctx.sendError(connection.id, message, code)
    return
  }
  // The reassembled frame may be as large as the chunk-set cap, not the single-frame cap.
  const result = decodeClientFrame(outcome.frame, { maxFrameBytes: ctx.limits.maxChunkSetBytes })
  if (!result.ok) {
    refuseInvalid(ctx, connection, result.error.message, result.error.code)
    return
  }
  const message = result.message
  if (message.type === 'delta_batch_chunk') {
    refuseInvalid(ctx, connection, 'Invalid message format: nested chunk', 'INVALID_MESSAGE')
    return
  }
  // Paid for by its chunks: a ping inside is answered, acks and pongs do nothing as ever.
  if (message.type === 'ping') return handlePing(ctx, connection, message)
  if (message.type === 'ack' || message.type === 'pong') return
  processPaidMessage(ctx, connection, message, result.bytes)
}

/** Replays buffered frames in arrival order once authentication succeeded. */
export function replayBuffered(ctx: EngineContext, connection: Connection): void {
  const buffered = connection.preAuth
  connection.preAuth = []
  connection.preAuthBytes = 0
  connection.preAuthDocuments = undefined
  for (const { message, bytes } of buffered) {
    if (connection.closed) return
    dispatch(ctx, connection, message, bytes)
  }
}
