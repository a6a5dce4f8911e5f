/** A token bucket refilled continuously: `perMinute` tokens a minute, bursts up to `perMinute`. */
export interface TokenBucket {
  tokens: number
  at: number
}

export function fullBucket(perMinute: number, now: number): TokenBucket {
  return { tokens: perMinute, at: now }
}

/** Takes one token if there is one. Time going backwards refills nothing. */
export function takeFromBucket(bucket: TokenBucket, perMinute: number, now: number): boolean {
  const elapsed = Math.max(0, now - bucket.at)
  bucket.tokens = Math.min(perMinute, bucket.tokens + (elapsed * perMinute) / 60_000)
  bucket.at = now
  if (bucket.tokens < 1) return false
  bucket.tokens -= 1
  return true
}
