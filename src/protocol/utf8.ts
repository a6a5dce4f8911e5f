export const utf8Encoder = new TextEncoder()
/** `fatal`: invalid UTF-8 is a malformed frame, not text to repair with U+FFFD. */
export const utf8Decoder = new TextDecoder('utf-8', { fatal: true })

/** Bytes `TextEncoder` would produce for `s` (lone surrogates become 3-byte U+FFFD), without allocating. */
export function utf8Length(s: string): number {
  const n = s.length
  let bytes = n
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) continue
    if (c < 0x800) {
      bytes += 1
      continue
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 2 // a surrogate pair: 2 units, 4 bytes
        i++
        continue
      }
    }
    bytes += 2
  }
  return bytes
}

/** Below this size an ASCII payload is turned into a string by hand: cheaper than a decoder call. */
const SMALL_ASCII_BYTES = 512

/**
 * Strict UTF-8 decoding with a fast path for the common case, a small all-ASCII payload (every
 * SyncKit frame with Latin field names and values): no decoder call, same result.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  const n = bytes.length
  if (n <= SMALL_ASCII_BYTES) {
    let ascii = true
    for (let i = 0; i < n; i++) {
      if ((bytes[i] as number) > 0x7f) {
        ascii = false
        break
      }
    }
    if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[])
  }
  return utf8Decoder.decode(bytes)
}
