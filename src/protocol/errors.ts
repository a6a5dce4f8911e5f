import type { ErrorCode, ProtocolError } from './types.js'

/** Error texts. The first ones are SyncKit's, verbatim (docs/protocol.md §9.2). */
export const ERRORS = {
  invalidFormat: 'Invalid message format',
  invalidDocumentId: 'Invalid document ID',
  documentIdTooLong: 'Document ID too long',
  documentIdInvalidChars: 'Document ID contains invalid characters',
  invalidDelta: 'Invalid delta message: missing or empty delta',
  invalidBatch: 'Invalid delta batch: missing or empty deltas array',
  invalidAwareness: 'Invalid awareness state format',
  chunkSetTooLarge: 'Chunk set too large',
  tooManyChunkSets: 'Too many pending chunk sets',
  chunkMismatch: 'Chunk set mismatch: totalChunks differs',
  invalidChunkData: 'Invalid chunk data',
} as const

// Echoed type names are cut so an error reply cannot mirror a huge garbage string.
const MAX_ECHOED_TYPE = 128

/** The message for a frame above the size limit. */
export const messageTooLarge = (bytes: number, max: number): string =>
  `Message too large (${bytes} bytes, max ${max})`
/** The message for an unknown message type (the type cut to 128 characters). */
export const invalidMessageType = (type: string): string =>
  `Invalid message type: ${type.length > MAX_ECHOED_TYPE ? `${type.slice(0, MAX_ECHOED_TYPE)}…` : type}`
/** The message for a `delta_batch` with too many ops. */
export const tooManyBatchOps = (max: number): string =>
  `Invalid delta batch: too many operations (max ${max})`
/** The message for a batch op with no value. */
export const batchOpWithoutValue = (index: number): string => `Invalid delta batch: op ${index} has no value`
/** The message for a batch op with an invalid field name. */
export const batchOpBadField = (index: number): string =>
  `Invalid delta batch: op ${index} has an invalid field`

/** A protocol error with its code and the message clients see. */
export function protocolError(
  message: string,
  code: ErrorCode,
  type?: string,
  documentId?: string,
): ProtocolError {
  const error: ProtocolError = { message, code }
  if (type !== undefined) error.type = type
  if (documentId !== undefined) error.documentId = documentId
  return error
}
