/**
 * The load client's wire format: a minimal raw SyncKit client, binary frames only. Writes are what
 * the published SDK (0.1.1) sends for `set()`: one `delta` per field with `type: 'set'`, a clock,
 * the client id, the edit time and a `messageId`. `delta_batch` sends the same op the way the
 * newer SDK does. Encoding goes through the project's own codec (`src/protocol`).
 */
import { encodeFrame, MESSAGE_TYPE_CODES } from '../../src/protocol/index.js'

export type WriteShape = 'delta' | 'delta_batch'

export const CODE = {
  syncResponse: MESSAGE_TYPE_CODES.sync_response,
  delta: MESSAGE_TYPE_CODES.delta,
  ack: MESSAGE_TYPE_CODES.ack,
  pong: MESSAGE_TYPE_CODES.pong,
  deltaBatch: MESSAGE_TYPE_CODES.delta_batch,
  error: MESSAGE_TYPE_CODES.error,
} as const

export function subscribeFrame(documentId: string): Uint8Array {
  return binary(encodeFrame('subscribe', { documentId }, Date.now(), 'binary'))
}

/** The SDK's ping: an empty payload. */
export function pingFrame(): Uint8Array {
  return binary(encodeFrame('ping', {}, Date.now(), 'binary'))
}

/** One field write; `value` is the number the receivers read back to time the echo. */
export function writeFrame(
  shape: WriteShape,
  documentId: string,
  field: string,
  value: number,
  clientId: string,
  counter: number,
): Uint8Array {
  const now = Date.now()
  const op = {
    type: 'set',
    documentId,
    field,
    value,
    clock: { [clientId]: counter },
    clientId,
    timestamp: now,
  }
  const messageId = `m${value}`
  if (shape === 'delta') return binary(encodeFrame('delta', { ...op, messageId }, now, 'binary'))
  return binary(encodeFrame('delta_batch', { documentId, deltas: [op], messageId }, now, 'binary'))
}

const VALUE_KEY = Buffer.from('"value":')

/**
 * The numeric `value` of a field echo, read from the frame bytes without parsing the JSON: the
 * server's `delta` echo and the relay's forwarded write both carry `"value":<n>`, and the load
 * client only ever writes non-negative integers. -1 when there is none.
 */
export function readValue(frame: Buffer): number {
  const at = frame.indexOf(VALUE_KEY, 13)
  if (at < 0) return -1
  let value = 0
  let digits = 0
  for (let i = at + VALUE_KEY.length; i < frame.length; i++) {
    const c = frame[i] as number
    if (c < 48 || c > 57) break
    value = value * 10 + (c - 48)
    digits++
  }
  return digits > 0 ? value : -1
}

function binary(frame: string | Uint8Array): Uint8Array {
  if (typeof frame === 'string') throw new TypeError('binary frame expected')
  return frame
}
