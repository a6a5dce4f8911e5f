import type { SyncServerOptions } from '../../src/server/index.js'

/**
 * The one configuration every conformance runtime runs (ws, node:http, Bun, Deno): the suite
 * reads the same numbers to know what to expect, so a runtime can never pass with other limits.
 */
export const CONFORMANCE_LIMITS = Object.freeze({
  /** Frames above this get `Message too large (<n> bytes, max <this>)`. */
  maxFrameBytes: 256 * 1024,
  /** Per connection; bursts up to the same number. */
  maxMessagesPerMinute: 300,
  /** Transport buffer above which echoes queue (and coalesce) in the server. */
  highWaterMark: 64 * 1024,
  /** Buffered + queued bytes above which a slow reader is closed with 1013. */
  hardLimit: 512 * 1024,
  maxQueuedMessages: 1_000,
  /** Drain checks for transports that never report `drained()` (Deno). */
  tickIntervalMs: 200,
  /** The suite opens many sockets from 127.0.0.1. */
  maxConnectionsPerIp: 1_000,
})

export const CONFORMANCE_OPTIONS: SyncServerOptions = {
  auth: { required: false },
  maxMessagesPerMinute: CONFORMANCE_LIMITS.maxMessagesPerMinute,
  maxConnectionsPerIp: CONFORMANCE_LIMITS.maxConnectionsPerIp,
  limits: { maxFrameBytes: CONFORMANCE_LIMITS.maxFrameBytes },
  backpressure: {
    highWaterMark: CONFORMANCE_LIMITS.highWaterMark,
    hardLimit: CONFORMANCE_LIMITS.hardLimit,
    maxQueuedMessages: CONFORMANCE_LIMITS.maxQueuedMessages,
  },
  tickIntervalMs: CONFORMANCE_LIMITS.tickIntervalMs,
  // The default 30 s: a stalled reader must meet the backpressure limit, not the heartbeat.
  heartbeat: { intervalMs: 30_000 },
}

/**
 * The upgrade-check fixture (`SYNCKIT_FIXTURE=door`, test/conformance/runtime-door.test.ts): a
 * connection needs the cookie `session=ok`, and one address may hold one connection.
 */
export const DOOR_OPTIONS: SyncServerOptions = {
  maxConnectionsPerIp: 1,
  auth: {
    authenticate: ({ cookies }) =>
      cookies.session === 'ok'
        ? { userId: 'cookie-user', permissions: { canRead: ['*'], canWrite: ['*'], isAdmin: false } }
        : null,
  },
}
