import type { SyncServerOptions } from './options.js'
import { resolveServerOptions } from './resolve-options.js'
import { SyncServerRuntime } from './runtime.js'
import type { SyncServer } from './types.js'

/**
 * Creates the sync runtime: an engine, a store (in-memory by default), timers, and the effect
 * interpreter. Attach a transport (`synckit-engine/ws`, `synckit-engine/node`, or your own through
 * `upgrade` and `handleConnection`) to serve clients. Invalid options throw here, at startup.
 */
export function createSyncServer<Context = unknown>(
  options: SyncServerOptions<Context> = {},
): SyncServer<Context> {
  return new SyncServerRuntime(resolveServerOptions(options as SyncServerOptions)) as SyncServer<Context>
}
