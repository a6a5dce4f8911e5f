import type { SyncServerTransport, UpgradeRequest } from '../src/server/transport.js'

/** Helpers shared by the transport adapters (not a public entry point). */

/** Where every adapter upgrades unless told otherwise (`path` option). */
export { DEFAULT_WS_PATH } from '../src/server/http.js'
export type { SyncServerTransport }
/** The server's default `backpressure.highWaterMark`. */
export const DEFAULT_HIGH_WATER_MARK = 1_048_576

/** True for a WebSocket upgrade request on `path`. */
export function isUpgradeRequest(request: Request, path: string): boolean {
  if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return false
  return new URL(request.url).pathname === path
}

/** The upgrade request as the server sees it (path + query, headers, peer address). */
export function upgradeRequestOf(request: Request, remoteAddress: string | undefined): UpgradeRequest {
  const url = new URL(request.url)
  return {
    url: url.pathname + url.search,
    headers: request.headers,
    ...(remoteAddress ? { remoteAddress } : {}),
  }
}

/** A binary frame as a Uint8Array view, whatever the runtime hands over. */
export function toBytes(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (data instanceof Uint8Array) return data
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  return new Uint8Array(data)
}
