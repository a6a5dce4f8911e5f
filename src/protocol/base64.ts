/** Standard base64 (RFC 4648 §4), pure: no Buffer, and atob is not everywhere strict. */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const INVALID = 255
const LOOKUP = new Uint8Array(128).fill(INVALID)
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i

/** Length of `text` without its padding (at most two `=`). */
function unpaddedLength(text: string): number {
  let end = text.length
  if (end > 0 && text.charCodeAt(end - 1) === 0x3d) end--
  if (end > 0 && text.charCodeAt(end - 1) === 0x3d) end--
  return end
}

/** How many bytes `decodeBase64(text)` yields when `text` is valid, without decoding it. */
export function base64DecodedLength(text: string): number {
  return Math.floor((unpaddedLength(text) * 3) / 4)
}

/** Bytes of `text`, or `undefined` if it is not strict base64 (padding optional, no whitespace). */
export function decodeBase64(text: string): Uint8Array | undefined {
  const end = unpaddedLength(text)
  const padding = text.length - end
  if (padding > 0 && (text.length % 4 !== 0 || end % 4 !== 4 - padding)) return undefined
  if (end % 4 === 1) return undefined

  const out = new Uint8Array(Math.floor((end * 3) / 4))
  let bits = 0
  let buffered = 0
  let o = 0
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i)
    const v = c < 128 ? (LOOKUP[c] ?? INVALID) : INVALID
    if (v === INVALID) return undefined
    bits = ((bits << 6) | v) & 0xffffff
    buffered += 6
    if (buffered >= 8) {
      buffered -= 8
      out[o++] = (bits >> buffered) & 0xff
    }
  }
  return out
}

/** Bytes as standard base64 (with padding). */
export function encodeBase64(bytes: Uint8Array): string {
  let out = ''
  let i = 0
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!
  }
  const rest = bytes.length - i
  if (rest === 1) {
    const n = bytes[i]! << 16
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + '=='
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8)
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + '='
  }
  return out
}
