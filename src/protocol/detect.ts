import type { WireFormat } from './types.js'

const OPEN_BRACE = 0x7b

/** Per-frame encoding (TS reference): a JS string, or bytes starting with `{`, are JSON. */
export function detectFormat(frame: string | Uint8Array): WireFormat {
  if (typeof frame === 'string') return 'json'
  return frame.length > 0 && frame[0] === OPEN_BRACE ? 'json' : 'binary'
}
