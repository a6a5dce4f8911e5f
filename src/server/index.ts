/** The runtime layer: `createSyncServer`, the default store, HTTP routes and the public types. */

export { MemoryStore } from '../storage/memory-store.js'
export { createSyncServer } from './create-sync-server.js'
export type { ClusterLink } from './effects.js'
export type * from './events.js'
export type { DocumentSummary, HealthReport, Readiness } from './http.js'
export { SECURITY_HEADERS } from './http.js'
export type * from './options.js'
export type { StaticFile, StaticFiles } from './static-files.js'
export type * from './types.js'
export { SERVER_NAME, VERSION } from './version.js'
