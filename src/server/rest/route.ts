import type { RestDeps } from './deps.js'
import type { RestCaller } from './identity.js'

/** What a route handler gets: the request, the server, and who is asking. */
export interface RouteRequest {
  readonly request: Request
  readonly url: URL
  readonly deps: RestDeps
  readonly caller: RestCaller
  /** The decoded `{id}` of `/v1/documents/{id}...`, checked against the document-id rules. */
  readonly documentId: string
}

/** One method of one route. */
export type RouteHandler = (route: RouteRequest) => Promise<Response>
