/** A token bucket refilled continuously: `perMinute` tokens a minute, bursts up to `perMinute`. */
export interface TokenBucket {
  tokens: number
  at: number
}

export function fullBucket(perMinute: number, now: number): TokenBucket {
  return { tokens: perMinute, at: now }
}

/** Adds what accrued since the last visit and returns the tokens held. Time going backwards refills nothing. */
export function refillBucket(bucket: TokenBucket, perMinute: number, now: number): number {
  const elapsed = Math.max(0, now - bucket.at)
  bucket.tokens = Math.min(perMinute, bucket.tokens + (elapsed * perMinute) / 60_000)
  bucket.at = now
  return bucket.tokens
}

/** Takes one token if there is one. */
export function takeFromBucket(bucket: TokenBucket, perMinute: number, now: number): boolean {
  if (refillBucket(bucket, perMinute, now) < 1) return false
  bucket.tokens -= 1
  return true
}
