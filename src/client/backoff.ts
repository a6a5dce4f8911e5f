import type { ReconnectOptions } from './types.js'

export const RECONNECT_DEFAULTS: Required<ReconnectOptions> = {
  initialDelayMs: 1000,
  maxDelayMs: 30_000,
  factor: 1.5,
}

/**
 * Delay before reconnect attempt `attempt` (1-based): `min(initial * factor^(attempt-1), max)`
 * plus 0-10 % jitter, as the SyncKit SDK does, so a restarted server is not hit by every client
 * in the same millisecond.
 */
export function reconnectDelay(
  attempt: number,
  options: ReconnectOptions = {},
  random = Math.random,
): number {
  const { initialDelayMs, maxDelayMs, factor } = { ...RECONNECT_DEFAULTS, ...options }
  const base = Math.min(initialDelayMs * factor ** Math.max(0, attempt - 1), maxDelayMs)
  return Math.round(base * (1 + 0.1 * random()))
}
