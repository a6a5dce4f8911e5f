/**
 * The 13-byte binary header (PROTOCOL.md §1.2): uint8 type code, int64 BE timestamp (ms),
 * uint32 BE payload length.
 */
export const HEADER_BYTES = 13
const TWO_32 = 2 ** 32

export function writeHeader(view: DataView, code: number, timestamp: number, payloadLength: number): void {
  // hi/lo split in float maths: exact for every safe integer, no BigInt on the broadcast path.
  const ts = Number.isFinite(timestamp) ? Math.trunc(timestamp) : 0
  const hi = Math.floor(ts / TWO_32)
  view.setUint8(0, code)
  view.setInt32(1, hi | 0)
  view.setUint32(5, ts - hi * TWO_32)
  view.setUint32(9, payloadLength)
}

/** The header timestamp; exact for |t| < 2^53, the nearest double beyond. */
export function readTimestamp(view: DataView): number {
  return view.getInt32(1) * TWO_32 + view.getUint32(5)
}

export function readPayloadLength(view: DataView): number {
  return view.getUint32(9)
}
