import type { DocumentApiErrorCode } from '../documents.js'
import { SECURITY_HEADERS } from '../http.js'

/** The `error.code` of every REST refusal: the document API's codes plus the HTTP layer's own. */
export type RestErrorCode =
  | DocumentApiErrorCode
  | 'INVALID_JSON'
  | 'AUTH_REQUIRED'
  | 'AUTH_FAILED'
  | 'AUTH_UNAVAILABLE'
  | 'PERMISSION_DENIED'
  | 'ORIGIN_NOT_ALLOWED'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'INTERNAL'

/** The HTTP status of each document API error code (docs/rest.md, Errors). */
export const STATUS_OF: Readonly<Record<DocumentApiErrorCode, number>> = Object.freeze({
  INVALID_INPUT: 400,
  VALIDATION_FAILED: 422,
  QUOTA_EXCEEDED: 413,
  STORE_FAILED: 503,
  NOT_SUPPORTED: 501,
  SHUTTING_DOWN: 503,
})

/** A JSON response with the security headers; never cached (it carries documents). */
export function jsonResponse(
  status: number,
  body: unknown,
  extra?: Readonly<Record<string, string>>,
): Response {
  return jsonTextResponse(status, status === 204 ? null : JSON.stringify(body), extra)
}

/** The same, for JSON serialized already (the OpenAPI document is serialized once). */
export function jsonTextResponse(
  status: number,
  text: string | null,
  extra?: Readonly<Record<string, string>>,
): Response {
  const headers = new Headers(SECURITY_HEADERS)
  headers.set('Content-Type', 'application/json; charset=utf-8')
  headers.set('Cache-Control', 'no-store')
  if (extra) for (const [name, value] of Object.entries(extra)) headers.set(name, value)
  return new Response(text, { status, headers })
}

/** `{ "error": { "code", "message", "details"? } }` with its status. */
export function errorResponse(
  status: number,
  code: RestErrorCode,
  message: string,
  options: { details?: Readonly<Record<string, unknown>>; headers?: Readonly<Record<string, string>> } = {},
): Response {
  const error = options.details ? { code, message, details: options.details } : { code, message }
  return jsonResponse(status, { error }, options.headers)
}

/** A route answers a response, or throws one of these to refuse (caught by the router). */
export class RestRefusal extends Error {
  constructor(readonly response: Response) {
    super(`REST refusal ${response.status}`)
  }
}

export function refuse(
  status: number,
  code: RestErrorCode,
  message: string,
  details?: Readonly<Record<string, unknown>>,
): RestRefusal {
  return new RestRefusal(errorResponse(status, code, message, details ? { details } : {}))
}
