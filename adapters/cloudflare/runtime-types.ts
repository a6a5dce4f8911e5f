/**
 * The parts of the Workers runtime (workerd) the Cloudflare adapter uses, typed structurally here
 * so neither the adapter nor its users need `@cloudflare/workers-types` to compile.
 */

/** A server-side WebSocket accepted with `ctx.acceptWebSocket` (the Hibernation API). */
export interface HibernatableWebSocket {
  readonly readyState: number
  send(data: string | ArrayBuffer | ArrayBufferView): void
  close(code?: number, reason?: string): void
  /** Kept by the runtime with the socket while the object hibernates (structured clone, ≤ 16 KiB). */
  serializeAttachment(value: unknown): void
  deserializeAttachment(): unknown
}

export type SqlValue = string | number | ArrayBuffer | null

export interface SqlCursor<Row> {
  toArray(): Row[]
}

/** `ctx.storage.sql`: synchronous SQLite inside the object. */
export interface SqlStorage {
  exec<Row = Record<string, SqlValue>>(query: string, ...bindings: unknown[]): SqlCursor<Row>
}

/** `ctx.storage` of a SQLite-backed Durable Object. */
export interface DurableObjectStorage {
  readonly sql: SqlStorage
  transactionSync<T>(callback: () => T): T
  /** Resolves once every write so far is durable. */
  sync?(): Promise<void>
}

/** The `ctx` (`DurableObjectState`) a Durable Object is constructed with. */
export interface DurableObjectState {
  readonly id: { toString(): string }
  readonly storage: DurableObjectStorage
  acceptWebSocket(socket: HibernatableWebSocket, tags?: string[]): void
  getWebSockets(tag?: string): HibernatableWebSocket[]
}

export interface DurableObjectStub {
  fetch(request: Request): Promise<Response>
}

/** A Durable Object namespace binding (`env.SYNC`). */
export interface DurableObjectNamespace {
  idFromName(name: string): unknown
  get(id: unknown): DurableObjectStub
}

/** workerd's `WebSocketPair`: `[client, server]`. */
interface WebSocketPairConstructor {
  new (): { 0: unknown; 1: HibernatableWebSocket }
}

/** A new socket pair: the server end for the object, the client end for the 101 response. */
export function newWebSocketPair(): { client: unknown; server: HibernatableWebSocket } {
  const Pair = (globalThis as { WebSocketPair?: WebSocketPairConstructor }).WebSocketPair
  if (!Pair) throw new Error('WebSocketPair is missing: synckit-engine/cloudflare runs in workerd')
  const pair = new Pair()
  return { client: pair[0], server: pair[1] }
}

/** The 101 response that hands the client end of the pair to the runtime. */
export function webSocketResponse(client: unknown): Response {
  return new Response(null, { status: 101, webSocket: client } as ResponseInit)
}
