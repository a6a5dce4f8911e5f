import type { SocketEventLike, WebSocketConstructorLike, WebSocketLike } from './types.js'

export interface SocketHandlers {
  open(): void
  frame(frame: string | Uint8Array): void
  close(code: number, reason: string): void
  error(error: Error): void
}

/** The constructor to use: the option, else the global one (browsers, Deno, Bun, Node >= 22). */
export function resolveWebSocket(option: WebSocketConstructorLike | undefined): WebSocketConstructorLike {
  if (option) return option
  const global: unknown = Reflect.get(globalThis, 'WebSocket')
  if (typeof global === 'function') return global as WebSocketConstructorLike
  throw new Error('No global WebSocket: pass the `WebSocket` option (e.g. `import { WebSocket } from "ws"`)')
}

/** Open a socket and translate its events; frames come out as a string (text) or bytes (binary). */
export function openSocket(Ctor: WebSocketConstructorLike, url: string, on: SocketHandlers): WebSocketLike {
  const socket = new Ctor(url)
  socket.binaryType = 'arraybuffer'
  socket.addEventListener('open', () => on.open())
  socket.addEventListener('message', (event) => {
    const frame = toFrame(event.data)
    if (frame === undefined) on.error(new Error('Unsupported WebSocket message data'))
    else on.frame(frame)
  })
  socket.addEventListener('close', (event) => on.close(event.code ?? 1006, event.reason ?? ''))
  socket.addEventListener('error', (event: SocketEventLike) =>
    on.error(new Error(`WebSocket error${event.message ? `: ${event.message}` : ''}`)),
  )
  return socket
}

function toFrame(data: unknown): string | Uint8Array | undefined {
  if (typeof data === 'string') return data
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  return undefined
}
