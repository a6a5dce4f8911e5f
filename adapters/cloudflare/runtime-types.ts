/**
 * The parts of the Workers runtime (workerd) the Cloudflare adapter uses, typed structurally here
 * so neither the adapter nor its users need `@cloudflare/workers-types` to compile.
 */

/** A server-side WebSocket accepted with `ctx.acceptWebSocket` (the Hibernation API). */
export interface HibernatableWebSocket {
  readonly readyState: number
  /** Queues a frame (workerd does not report its send buffer). */
  send(data: string | ArrayBuffer | ArrayBufferView): void
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void
  /** Kept by the runtime with the socket while the object hibernates (structured clone, ≤ 16 KiB). */
  serializeAttachment(value: unknown): void
  /** What `serializeAttachment` last stored, also after a hibernation. */
  deserializeAttachment(): unknown
}

/** A value SQLite hands back through `ctx.storage.sql`. */
export type SqlValue = string | number | ArrayBuffer | null

/** The result of `SqlStorage.exec`. */
export interface SqlCursor<Row> {
  /** Every row, read at once. */
  toArray(): Row[]
}

/** `ctx.storage.sql`: synchronous SQLite inside the object. */
export interface SqlStorage {
  /** Runs one statement with `?` bindings. */
  exec<Row = Record<string, SqlValue>>(query: string, ...bindings: unknown[]): SqlCursor<Row>
}

/** `ctx.storage` of a SQLite-backed Durable Object. */
export interface DurableObjectStorage {
  readonly sql: SqlStorage
  /** Runs `callback` in one transaction: all of its writes commit, or none. */
  transactionSync<T>(callback: () => T): T
  /** Resolves once every write so far is durable. */
  sync?(): Promise<void>
}

/** A Durable Object's id. */
export interface DurableObjectId {
  /** Hex text, the same for the object across restarts and hibernations. */
  toString(): string
}

/** The `ctx` (`DurableObjectState`) a Durable Object is constructed with. */
export interface DurableObjectState {
  /** The object's id; `toString()` is stable across restarts. */
  readonly id: DurableObjectId
  readonly storage: DurableObjectStorage
  /** Hands the socket to the runtime, so the object can hibernate while it stays open. */
  acceptWebSocket(socket: HibernatableWebSocket, tags?: string[]): void
  /** The accepted sockets still open (after a wake-up too). */
  getWebSockets(tag?: string): HibernatableWebSocket[]
}

/** A handle on one object, as `namespace.get(id)` returns it. */
export interface DurableObjectStub {
  /** Sends the request to the object. */
  fetch(request: Request): Promise<Response>
}

/** A Durable Object namespace binding (`env.SYNC`). */
export interface DurableObjectNamespace {
  /** The id of the object named `name` (the same name always gives the same object). */
  idFromName(name: string): unknown
  /** A stub to talk to the object with that id. */
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
