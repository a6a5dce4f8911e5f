import { readCappedBody } from '../../auth/http.js'
import { isJsonObject, isJsonValue, MAX_JSON_DEPTH, unsafeJson } from '../../protocol/guards.js'
import type { JsonValue } from '../../protocol/types.js'
import type { DocumentChange } from '../documents.js'
import { refuse } from './responses.js'

/**
 * A PATCH body: `{ "set": { field: value }, "delete": [field] }`, JSON only (a form post from
 * another site cannot send `application/json` without a CORS preflight, which is never granted).
 * Read with a byte cap from the stream itself; throws `RestRefusal` (400, 413, 415).
 */
export async function readChange(request: Request, maxBytes: number): Promise<DocumentChange> {
  const type = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase()
  if (type !== 'application/json') {
    throw refuse(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json')
  }
  const declared = Number(request.headers.get('content-length') ?? '0')
  if (declared > maxBytes) throw tooLarge(maxBytes)
  const bytes = await readCappedBody(request, maxBytes)
  if (!bytes) throw tooLarge(maxBytes)
  let body: unknown
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    throw refuse(400, 'INVALID_JSON', 'The body is not valid JSON')
  }
  // Values are echoed and stored like a socket write's: the same depth and number limits.
  if (unsafeJson(body, MAX_JSON_DEPTH + 2)) {
    throw refuse(
      400,
      'INVALID_JSON',
      `The body nests deeper than ${MAX_JSON_DEPTH} or holds a number JSON cannot carry`,
    )
  }
  return changeOf(body)
}

function changeOf(body: unknown): DocumentChange {
  if (!isJsonObject(body)) throw invalid('The body must be an object: { "set": {...}, "delete": [...] }')
  const unknown = Object.keys(body).filter((key) => key !== 'set' && key !== 'delete')
  if (unknown.length > 0) throw invalid(`Unknown member ${JSON.stringify(unknown[0])} (expected set, delete)`)
  const change: { set?: Record<string, JsonValue>; delete?: string[] } = {}
  const set = body.set
  if (set !== undefined) {
    if (!isJsonObject(set) || !isJsonValue(set)) throw invalid('"set" must be an object of JSON values')
    change.set = set
  }
  const deleted = body.delete
  if (deleted !== undefined) {
    if (!Array.isArray(deleted) || !deleted.every((field) => typeof field === 'string')) {
      throw invalid('"delete" must be an array of field names')
    }
    change.delete = deleted as string[]
  }
  return change
}

function invalid(message: string) {
  return refuse(400, 'INVALID_INPUT', message)
}

function tooLarge(maxBytes: number) {
  return refuse(413, 'PAYLOAD_TOO_LARGE', `Request body larger than ${maxBytes} bytes`, { maxBytes })
}
