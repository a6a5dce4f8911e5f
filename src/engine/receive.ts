import { ChunkAssembler, decodeClientFrame, detectFormat } from '../protocol/index.js'
import type { ClientMessage, DeltaBatchChunkMessage, ErrorCode } from '../protocol/types.js'
import { takeFromBucket } from './buckets.js'
import type { EngineCore } from './core.js'
import { dispatch } from './dispatch.js'
import { handleAuth } from './handlers/auth.js'
import { handlePing } from './handlers/misc.js'
import type { Connection } from './state.js'

/** Decode, answer malformed frames precisely, then run the per-message pipeline. */
export function receiveFrame(core: EngineCore, connection: Connection, frame: string | Uint8Array): void {
  if (connection.format === undefined) connection.format = detectFormat(frame)
  const result = decodeClientFrame(frame, { maxFrameBytes: core.limits.maxFrameBytes })
  const messageType = result.ok ? result.message.type : 'invalid'
  core.messagesIn.set(messageType, (core.messagesIn.get(messageType) ?? 0) + 1)
  core.bytesIn += result.bytes
  if (!result.ok) {
    const { message, code, documentId } = result.error
    refuseInvalid(core, connection, message, code, documentId)
    return
  }
  processMessage(core, connection, result.message, result.bytes)
}

/**
 * Every frame costs something. `ping` has a bucket of its own (`maxPingsPerMinute`), so a spent
 * message budget never stops the heartbeat; beyond it pings go unanswered. Acks and pongs of our
 * own broadcasts (the second dialect acks every delta) cost nothing and do nothing. Everything
 * else, chunk frames included, takes a token from the message buckets before any work is done.
 */
export function processMessage(
  core: EngineCore,
  connection: Connection,
  message: ClientMessage,
  bytes: number,
): void {
  if (message.type === 'ping') {
    if (takeFromBucket(connection.pings, core.limits.maxPingsPerMinute, core.now)) {
      handlePing(core, connection, message)
    }
    return
  }
  if (message.type === 'ack' || message.type === 'pong') return
  if (!takeToken(core, connection)) {
    // A refused write names its messageId, so the writer fails fast instead of waiting for a timeout.
    const messageId = 'messageId' in message ? (message.messageId ?? message.id) : undefined
    core.sendError(
      connection.id,
      'Too many messages. Please slow down.',
      'RATE_LIMIT_EXCEEDED',
      messageId !== undefined && (message.type === 'delta' || message.type === 'delta_batch')
        ? { messageId }
        : undefined,
    )
    return
  }
  processPaidMessage(core, connection, message, bytes)
}

/**
 * The per-message pipeline, for a message already paid for: chunks are reassembled (the whole
 * message costs what its chunks cost), then authentication gating (frames before auth are
 * buffered, bounded, and replayed).
 */
function processPaidMessage(core: EngineCore, connection: Connection, message: ClientMessage, bytes: number) {
  if (message.type === 'delta_batch_chunk') {
    // Reassembly buffers up to a chunk set's cap: not for connections nobody has authenticated.
    if (connection.authState !== 'authenticated' || connection.expiredAt !== undefined) {
      core.sendError(connection.id, 'Not authenticated', 'NOT_AUTHENTICATED')
      return
    }
    return receiveChunk(core, connection, message)
  }
  if (message.type === 'auth') return handleAuth(core, connection, message)
  if (message.type === 'connect') return
  if (connection.authState !== 'authenticated' || connection.expiredAt !== undefined) {
    bufferUntilAuthenticated(core, connection, message, bytes)
    return
  }
  dispatch(core, connection, message, bytes)
}

/**
 * An invalid frame is answered precisely, up to `maxInvalidFrames` a minute; past that the
 * connection is closed instead (a client that keeps sending garbage is broken or hostile).
 */
function refuseInvalid(
  core: EngineCore,
  connection: Connection,
  message: string,
  code: ErrorCode,
  documentId?: string,
): void {
  if (!takeFromBucket(connection.invalidFrames, core.limits.maxInvalidFrames, core.now)) {
    core.closeConnection(connection.id, 1008, 'Too many invalid messages')
    return
  }
  core.sendError(connection.id, message, code, documentId ? { documentId } : undefined)
}

/** Token buckets refilled continuously: per connection, and per user across their connections. */
function takeToken(core: EngineCore, connection: Connection): boolean {
  const capacity = core.limits.maxMessagesPerMinute
  const elapsed = Math.max(0, core.now - connection.tokensAt)
  connection.tokens = Math.min(capacity, connection.tokens + (elapsed * capacity) / 60_000)
  connection.tokensAt = core.now
  if (connection.tokens < 1) return false
  const bucket = userBucket(core, connection)
  if (bucket) {
    const perUser = core.limits.maxMessagesPerMinutePerUser
    bucket.tokens = Math.min(perUser, bucket.tokens + (Math.max(0, core.now - bucket.at) * perUser) / 60_000)
    bucket.at = core.now
    if (bucket.tokens < 1) return false
    bucket.tokens -= 1
  }
  connection.tokens -= 1
  return true
}

/** Anonymous connections all share one user id, so they are limited per connection only. */
function userBucket(core: EngineCore, connection: Connection) {
  const principal = connection.principal
  if (!principal || principal.via === 'anonymous') return undefined
  return core.userBuckets.get(principal.userId)
}

function bufferUntilAuthenticated(
  core: EngineCore,
  connection: Connection,
  message: ClientMessage,
  bytes: number,
) {
  const { maxPreAuthFrames, maxPreAuthBytes, maxDocumentsPerConnection } = core.limits
  if (connection.preAuth.length >= maxPreAuthFrames || connection.preAuthBytes + bytes > maxPreAuthBytes) {
    refusePreAuth(core, connection, 'Too many messages before authentication')
    return
  }
  // Replay would refuse documents past the per-connection cap anyway: do not hold them that long.
  const documentId = 'documentId' in message ? message.documentId : undefined
  if (documentId !== undefined) {
    if (connection.preAuthDocuments === undefined) connection.preAuthDocuments = new Set()
    const documents = connection.preAuthDocuments
    if (!documents.has(documentId) && documents.size >= maxDocumentsPerConnection) {
      refusePreAuth(core, connection, 'Too many documents before authentication')
      return
    }
    documents.add(documentId)
  }
  connection.preAuth.push({ message, bytes })
  connection.preAuthBytes += bytes
}

function refusePreAuth(core: EngineCore, connection: Connection, error: string): void {
  core.sendError(connection.id, error, 'AUTH_REQUIRED')
  core.closeConnection(connection.id, 1008, 'Authentication required')
}

function receiveChunk(core: EngineCore, connection: Connection, chunk: DeltaBatchChunkMessage): void {
  if (!connection.chunks) {
    const { maxChunksPerSet, maxChunkSetBytes, maxChunkSetsPerConnection, chunkSetTimeoutMs } = core.limits
    connection.chunks = new ChunkAssembler({
      maxChunksPerSet,
      maxSetBytes: maxChunkSetBytes,
      maxSets: maxChunkSetsPerConnection,
      timeoutMs: chunkSetTimeoutMs,
    })
  }
  const outcome = connection.chunks.add(chunk, core.now)
  if (outcome.status === 'pending') return
  if (outcome.status === 'error') {
    const { message, code } = outcome.error
    if (code === 'INVALID_MESSAGE') refuseInvalid(core, connection, message, code)
    else core.sendError(connection.id, message, code)
    return
  }
  // The reassembled frame may be as large as the chunk-set cap, not the single-frame cap.
  const result = decodeClientFrame(outcome.frame, { maxFrameBytes: core.limits.maxChunkSetBytes })
  if (!result.ok) {
    refuseInvalid(core, connection, result.error.message, result.error.code)
    return
  }
  const message = result.message
  if (message.type === 'delta_batch_chunk') {
    refuseInvalid(core, connection, 'Invalid message format: nested chunk', 'INVALID_MESSAGE')
    return
  }
  // Paid for by its chunks: a ping inside is answered, acks and pongs do nothing as ever.
  if (message.type === 'ping') return handlePing(core, connection, message)
  if (message.type === 'ack' || message.type === 'pong') return
  processPaidMessage(core, connection, message, result.bytes)
}

/** Replays buffered frames in arrival order once authentication succeeded. */
export function replayBuffered(core: EngineCore, connection: Connection): void {
  const buffered = connection.preAuth
  connection.preAuth = []
  connection.preAuthBytes = 0
  connection.preAuthDocuments = undefined
  for (const { message, bytes } of buffered) {
    if (connection.closed) return
    dispatch(core, connection, message, bytes)
  }
}
