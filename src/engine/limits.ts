import type { Permissions } from '../protocol/types.js'
import type { EngineLimits } from './types.js'

/** Defaults chosen for a public-facing server on modest hardware; every one is configurable. */
export const DEFAULT_LIMITS: Readonly<EngineLimits> = Object.freeze({
  maxFrameBytes: 1_048_576,
  maxMessagesPerMinute: 500,
  maxMessagesPerMinutePerUser: 2_000,
  maxPingsPerMinute: 60,
  maxInvalidFrames: 20,
  // SDK 0.1.1 subscribes to every registered document before it authenticates (docs/protocol.md §4.3).
  maxPreAuthFrames: 1_000,
  maxPreAuthBytes: 1_048_576,
  authTimeoutMs: 10_000,
  maxParkedPerDocument: 1_000,
  maxDocumentsPerConnection: 1_000,
  maxFieldsPerDocument: 100_000,
  maxFieldValueBytes: 262_144,
  maxDocumentBytes: 16_777_216,
  maxAwarenessStateBytes: 16_384,
  awarenessTimeoutMs: 30_000,
  maxAwarenessClientsPerDocument: 1_000,
  maxAwarenessClientsPerConnection: 16,
  maxAwarenessClockStep: 1_000_000,
  maxAwarenessLeftBytes: 262_144,
  maxTextStatesPerDocument: 64,
  maxTextStateBytes: 1_048_576,
  maxIdleDocuments: 1_000,
  maxChunksPerSet: 64,
  maxChunkSetBytes: 4_194_304,
  maxChunkSetsPerConnection: 4,
  chunkSetTimeoutMs: 30_000,
})

/** SyncKit's anonymous grant: read and write every document, not admin. */
export const ANONYMOUS_PERMISSIONS: Readonly<Permissions> = Object.freeze({
  canRead: ['*'],
  canWrite: ['*'],
  isAdmin: false,
})

export function resolveLimits(overrides: Partial<EngineLimits> | undefined): EngineLimits {
  const limits: EngineLimits = { ...DEFAULT_LIMITS }
  if (!overrides) return limits
  for (const key of Object.keys(limits) as (keyof EngineLimits)[]) {
    const value = overrides[key]
    if (value === undefined) continue
    if (typeof value !== 'number' || !(value > 0)) {
      throw new RangeError(`Invalid engine limit ${key}: ${String(value)} (expected a positive number)`)
    }
    limits[key] = value
  }
  return limits
}
