export { SyncEngine } from './engine.js'
export { ANONYMOUS_PERMISSIONS, DEFAULT_LIMITS, resolveLimits } from './limits.js'
export { matchesPattern, rbacPolicy } from './rbac.js'
export type * from './types.js'
