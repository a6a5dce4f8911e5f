import { ERRORS } from './errors.js'

/** Longest accepted document id. */
export const MAX_DOCUMENT_ID_LENGTH = 256
const DOCUMENT_ID = /^[a-zA-Z0-9_:-]+$/

/** docs/protocol.md §3.4: the error text, or `undefined` when `id` is a valid document id. */
export function validateDocumentId(id: unknown): string | undefined {
  if (typeof id !== 'string' || id.length === 0) return ERRORS.invalidDocumentId
  if (id.length > MAX_DOCUMENT_ID_LENGTH) return ERRORS.documentIdTooLong
  if (!DOCUMENT_ID.test(id)) return ERRORS.documentIdInvalidChars
  return undefined
}

/** True when `documentId` follows the document-id rules. */
export function isValidDocumentId(id: unknown): id is string {
  return validateDocumentId(id) === undefined
}
