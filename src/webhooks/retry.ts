export interface RetryPolicy {
  /** Delay after the first failure (ms); doubled after each further one. */
  baseMs: number
  /** No delay is longer than this (ms), `Retry-After` included. */
  maxMs: number
}

/**
 * Delay before the next attempt after `failures` failed ones: exponential, capped, with "equal
 * jitter" (half fixed, half random) so receivers that failed together do not get retried together,
 * while the delay still grows. A receiver's `Retry-After` is honoured up to the cap.
 */
export function retryDelay(
  failures: number,
  policy: RetryPolicy,
  random: () => number,
  retryAfterMs?: number,
): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1))
  const jittered = exponential / 2 + random() * (exponential / 2)
  const delay = retryAfterMs === undefined ? jittered : Math.max(jittered, retryAfterMs)
  return Math.min(policy.maxMs, Math.max(0, Math.round(delay)))
}

/** `Retry-After` as delay-seconds or an HTTP date, in ms from `now`; undefined when absent or junk. */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (header === null) return undefined
  const text = header.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const date = Date.parse(text)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}
