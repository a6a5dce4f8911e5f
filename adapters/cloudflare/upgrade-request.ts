import type { UpgradeRequest } from '../../src/server/transport.js'
import { upgradeRequestOf } from '../transport.js'

/**
 * An upgrade request as the server sees it on Cloudflare. The client address is
 * `CF-Connecting-IP`, which Cloudflare's edge sets on every request it hands to a Worker (a
 * client's own value is replaced), and which reaches the object with the forwarded request.
 */
export function workerUpgradeRequest(request: Request): UpgradeRequest {
  return upgradeRequestOf(request, request.headers.get('cf-connecting-ip') ?? undefined)
}
