/**
 * The 13-byte binary header (docs/protocol.md §2.1): uint8 type code, int64 BE timestamp (ms),
 * uint32 BE payload length.
 */
export const HEADER_BYTES = 13
const TWO_32 = 2 ** 32

/** Writes the 13-byte header (type, timestamp, payload length) into `target`. */
export function writeHeader(view: DataView, code: number, timestamp: number, payloadLength: number): void {
  // hi/lo split in float maths: exact for every safe integer, no BigInt on the broadcast path.
  const ts = Number.isFinite(timestamp) ? Math.trunc(timestamp) : 0
  const hi = Math.floor(ts / TWO_32)
  view.setUint8(0, code)
  view.setInt32(1, hi | 0)
  view.setUint32(5, ts - hi * TWO_32)
  view.setUint32(9, payloadLength)
}

// Readers take the frame's bytes (at least HEADER_BYTES of them): no DataView per frame.

/** The header timestamp; exact for |t| < 2^53, the nearest double beyond. */
export function readTimestamp(frame: Uint8Array): number {
  return readInt32(frame, 1) * TWO_32 + readUint32(frame, 5)
}

/** The payload length of a binary frame's header. */
export function readPayloadLength(frame: Uint8Array): number {
  return readUint32(frame, 9)
}

function readInt32(bytes: Uint8Array, at: number): number {
  // `<< 24` of the high byte lands in the sign bit: a big-endian int32, as DataView.getInt32.
  return (
    ((bytes[at] as number) << 24) |
    ((bytes[at + 1] as number) << 16) |
    ((bytes[at + 2] as number) << 8) |
    (bytes[at + 3] as number)
  )
}

function readUint32(bytes: Uint8Array, at: number): number {
  return readInt32(bytes, at) >>> 0
}
