/** SHA-256 of the UTF-8 bytes, via WebCrypto (Node, Bun, Deno, browsers, workers). */
export async function sha256(value: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value)))
}

/** Compares two equal-length byte arrays without an early exit. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  let diff = 0
  for (let i = 0; i < a.byteLength; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0)
  return diff === 0
}

/**
 * Secret comparison whose timing depends on neither the contents nor the lengths: both sides are
 * hashed to 32 bytes first, then compared in constant time.
 */
export async function safeEqual(a: string, b: string): Promise<boolean> {
  const [left, right] = await Promise.all([sha256(a), sha256(b)])
  return bytesEqual(left, right)
}
