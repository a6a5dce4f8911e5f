import type { DocumentPage } from '../documents.js'
import { requireAdmin } from './access.js'
import type { RestDeps } from './deps.js'
import type { RestCaller } from './identity.js'
import { integerParam, stringParam } from './query.js'
import { jsonResponse } from './responses.js'

/** `GET /v1/documents?prefix=&after=&limit=` (admin): ids in byte order, `next` for the next page. */
export async function listDocuments(url: URL, deps: RestDeps, caller: RestCaller): Promise<Response> {
  const prefix = stringParam(url, 'prefix')
  const after = stringParam(url, 'after')
  const limit = integerParam(url, 'limit')
  requireAdmin(deps, caller)
  const page: DocumentPage = await deps.documents.list({
    ...(prefix === undefined ? {} : { prefix }),
    ...(after === undefined ? {} : { after }),
    ...(limit === undefined ? {} : { limit }),
  })
  return jsonResponse(200, page)
}
