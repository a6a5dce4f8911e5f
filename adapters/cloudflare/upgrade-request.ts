import type { UpgradeRequest } from '../../src/server/transport.js'
import { upgradeRequestOf } from '../transport.js'

/**
 * An upgrade request as the server sees it on Cloudflare. The client address is
 * `CF-Connecting-IP`, which Cloudflare sets to the address that connected to its edge, and which
 * reaches the object with the request the Worker forwards.
 */
export function workerUpgradeRequest(request: Request): UpgradeRequest {
  return upgradeRequestOf(request, request.headers.get('cf-connecting-ip') ?? undefined)
}
