// The main entry: the pure core, the runtime, auth, the cluster seam and the SQL store.
// Drivers with heavy dependencies stay behind subpaths: `synckit-engine/postgres`,
// `synckit-engine/redis`, and transports behind `synckit-engine/ws`, `/node`, `/bun`, `/deno`.
export * from './auth/index.js'
export * from './cluster/index.js'
export * from './crdt/index.js'
export * from './engine/index.js'
export * from './protocol/index.js'
export * from './server/index.js'
export * from './storage/index.js'
