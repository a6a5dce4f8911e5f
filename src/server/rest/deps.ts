import type { AuthorizePolicy } from '../../engine/types.js'
import type { Permissions } from '../../protocol/types.js'
import type { ServerDocuments } from '../documents.js'
import type { DoorOptions } from '../door.js'
import type { UpgradeRequest } from '../transport.js'

/** What the REST routes use of the running server. */
export interface RestDeps {
  readonly documents: ServerDocuments
  /** The WebSocket door's hook, credential verifier and time limit: one identity for both. */
  readonly door: DoorOptions
  /** `allowedOrigins` as a check; undefined when every origin is allowed. */
  readonly originAllowed: ((request: UpgradeRequest) => boolean) | undefined
  /** Anonymous mode (`auth.required: false`): what a caller without credentials may do. */
  readonly anonymousPermissions: Permissions | undefined
  /** `auth.authorize`, or RBAC: the policy the sockets are held to. */
  readonly policy: AuthorizePolicy
  /** Largest request body read (bytes); longer ones are refused with 413. */
  readonly maxBodyBytes: number
  /** The client address, as the door resolves it (`trustProxy`). */
  clientIp(request: UpgradeRequest): string | undefined
  /** Reports a failure of the server's own (logged once, `error` event). */
  fail(error: unknown, operation: 'authenticate' | 'verify-credentials' | 'rest'): void
}
