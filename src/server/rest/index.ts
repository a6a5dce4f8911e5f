import { ANONYMOUS_PERMISSIONS } from '../../engine/limits.js'
import { rbacPolicy } from '../../engine/rbac.js'
import type { ServerDocuments } from '../documents.js'
import type { ResolvedServerOptions } from '../resolve-options.js'
import type { UpgradeRequest } from '../transport.js'
import type { RestDeps } from './deps.js'
import { createRestHandler, type RestHandler } from './router.js'

export type { RestHandler } from './router.js'

/** What the runtime lends the REST API. */
export interface RestHost {
  readonly documents: ServerDocuments
  clientIp(request: UpgradeRequest): string | undefined
  fail: RestDeps['fail']
}

/** The REST API with the server's own door and policy, or undefined when `rest` is off. */
export function restFor(options: ResolvedServerOptions, host: RestHost): RestHandler | undefined {
  if (!options.rest) return undefined
  const { engine } = options
  return createRestHandler({
    documents: host.documents,
    door: options.door,
    originAllowed: options.originAllowed,
    anonymousPermissions: engine.anonymous
      ? (engine.anonymousPermissions ?? ANONYMOUS_PERMISSIONS)
      : undefined,
    policy: engine.authorize ?? rbacPolicy,
    maxBodyBytes: options.rest.maxBodyBytes,
    clientIp: (request) => host.clientIp(request),
    fail: (error, operation) => host.fail(error, operation),
  })
}
