/**
 * Shared harness of the SyncKit SDK compatibility suite: a real synckit-engine server over the `ws`
 * adapter, real `@synckit-js/sdk@0.1.1` clients, second-dialect (legacy test client) peers, a raw
 * probe that reads the server's state over the wire, and a bounded `converge` that names which
 * client lacks which field when it times out.
 */
import { isDeepStrictEqual } from 'node:util'
import { MemoryStorage, type SyncDocument, SyncKit } from '@synckit-js/sdk'
import { WebSocket } from 'ws'
import { attachWebSocketServer } from '../../adapters/ws.js'
import { createSyncClient, type SyncClient } from '../../src/client/index.js'
import type { JsonValue } from '../../src/protocol/types.js'
import { createSyncServer, type SyncServer, type SyncServerOptions } from '../../src/server/index.js'
import { sleep, within } from '../helpers/wait-for.js'

// The SDK opens `new WebSocket(url)` on the global; Node 20 has none.
globalThis.WebSocket = WebSocket as unknown as typeof globalThis.WebSocket

export { sleep, within }

/**
 * Polls `predicate` until it returns true, or fails after `timeoutMs` with `describe()` evaluated
 * at that moment (so the message says what was missing then, not at the start).
 */
export async function waitFor(
  predicate: () => boolean,
  { timeoutMs = 5_000, describe }: { timeoutMs?: number; describe: () => string },
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (predicate()) return
    if (Date.now() >= deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${describe()}`)
    await sleep(20)
  }
}

export type State = Record<string, unknown>

// ------------------------------------------------------------------ SDK console

/**
 * SDK 0.1.1 logs every frame with `console.log`. Silence log/info/debug/warn; keep the latest
 * `console.error` lines (server `error` frames, subscribe timeouts) for failure reports.
 */
const sdkErrors: string[] = []
if (process.env.COMPAT_VERBOSE === undefined) {
  const noop = (): void => {}
  console.log = noop
  console.info = noop
  console.debug = noop
  console.warn = noop
  console.error = (...args: unknown[]) => {
    sdkErrors.push(args.map((arg) => (typeof arg === 'string' ? arg : show(arg))).join(' '))
    if (sdkErrors.length > 20) sdkErrors.shift()
  }
}

export function recentSdkErrors(): string[] {
  return [...sdkErrors]
}

// ------------------------------------------------------------------ scope

/** Cleanups of one test, run in reverse order by `afterEach(() => scope.close())`. */
export class Scope {
  readonly #cleanups: (() => unknown)[] = []

  add(cleanup: () => unknown): void {
    this.#cleanups.push(cleanup)
  }

  async close(): Promise<void> {
    for (const cleanup of this.#cleanups.splice(0).reverse()) {
      try {
        await cleanup()
      } catch {
        // Best effort: a failed cleanup must not hide the test's own result.
      }
    }
  }
}

// ------------------------------------------------------------------ server

/**
 * TEST-ONLY server switches that break a behaviour of docs/protocol.md §10.2 on purpose (negative controls). Proposed
 * to the engine owner as `SyncServerOptions.testOnly`, forwarded to `EngineOptions.testOnly`:
 * - `skipAcks`: never send `ack` for `delta`/`delta_batch` writes (they are still applied,
 *   echoed and persisted);
 * - `flatEchoClock`: a write's sequence is the document's next one only, client clocks are not
 *   max-merged, so an echo's largest clock entry can stay below a writer's own counter.
 * Until the server has them they are ignored, and the negative controls using them fail.
 */
export interface TestOnlyOptions {
  skipAcks?: boolean
  flatEchoClock?: boolean
}
export type CompatServerOptions = SyncServerOptions & { testOnly?: TestOnlyOptions }

export interface CompatServer {
  sync: SyncServer
  port: number
  url: string
  /** Graceful stop: the SyncServer (flush, store close, sockets 1001), then the listener. */
  stop(): Promise<void>
}

export async function startServer(
  scope: Scope,
  options: CompatServerOptions = {},
  port = 0,
): Promise<CompatServer> {
  const serverOptions: CompatServerOptions = { auth: { required: false }, ...options }
  const sync = createSyncServer(serverOptions)
  const attached = await attachWebSocketServer(sync, { port, host: '127.0.0.1' })
  let stopped: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await sync.close()
      await attached.close()
    })()
    return stopped
  }
  scope.add(stop)
  return { sync, port: attached.port, url: `ws://127.0.0.1:${attached.port}/ws`, stop }
}

// ------------------------------------------------------------------ peers

export interface Peer {
  readonly name: string
  /** `sdk` peers see tombstones as the `{__deleted: true}` value (SDK 0.1.1 cannot delete). */
  readonly kind: 'sdk' | 'legacy'
  state(): State
}

const SDK_NETWORK = {
  // Fast reconnects for the restart test; pings every second exercise the server's `pong`.
  reconnect: { initialDelay: 50, maxDelay: 400, multiplier: 1.5 },
  heartbeat: { interval: 1000, timeout: 3000 },
}

interface SdkSocket {
  connect(): Promise<void>
  disconnect(): void
  getState(): string
  on(type: string, handler: (payload: unknown) => void): unknown
}

function isSdkSocket(value: unknown): value is SdkSocket {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof Reflect.get(value, 'connect') === 'function' &&
    typeof Reflect.get(value, 'disconnect') === 'function' &&
    typeof Reflect.get(value, 'getState') === 'function' &&
    typeof Reflect.get(value, 'on') === 'function'
  )
}

/** A real SDK 0.1.1 client (`SyncKit` + one `SyncDocument`). */
export class SdkPeer implements Peer {
  readonly kind = 'sdk'
  /** Connection states in order of change, from the one after `init()` (`connected`, ...). */
  readonly connectionLog: string[]
  /** `pong` frames received (answers to the SDK's heartbeat `ping`). */
  pongs = 0

  private constructor(
    readonly name: string,
    readonly kit: SyncKit,
    readonly doc: SyncDocument<State>,
    readonly documentId: string,
  ) {
    this.connectionLog = [this.socket().getState()]
    this.socket().on('pong', () => this.pongs++)
    kit.onNetworkStatusChange((status) => {
      if (this.connectionLog.at(-1) !== status.connectionState)
        this.connectionLog.push(status.connectionState)
    })
  }

  static async open(
    scope: Scope,
    url: string,
    documentId: string,
    options: { name: string; clientId?: string; storage?: MemoryStorage },
  ): Promise<SdkPeer> {
    const kit = new SyncKit({
      serverUrl: url,
      storage: options.storage ?? new MemoryStorage(),
      ...(options.clientId === undefined ? {} : { clientId: options.clientId }),
      network: SDK_NETWORK,
    })
    scope.add(() => kit.dispose())
    await within(kit.init(), 10_000, `${options.name}: SyncKit.init()`)
    const peer = new SdkPeer(options.name, kit, kit.document<State>(documentId), documentId)
    await peer.synced()
    return peer
  }

  /** The SDK's visible document (`SyncDocument.get()`). */
  state(): State {
    return this.doc.get()
  }

  set(field: string, value: unknown): Promise<void> {
    return this.doc.set(field, value).catch((error: unknown) => {
      throw new Error(`${this.name}: set('${field}') rejected: ${describeError(error)}`)
    })
  }

  get clientId(): string {
    return this.kit.getClientId()
  }

  /** Writes waiting in the SDK's offline queue. */
  queueSize(): number {
    return this.kit.getNetworkStatus()?.queueSize ?? 0
  }

  connectionState(): string {
    return this.socket().getState()
  }

  /** Until the SDK reports the document `synced` (its `sync_response` arrived). */
  async synced(timeoutMs = 10_000): Promise<void> {
    await waitFor(
      () => {
        const sync = this.kit.getSyncState(this.documentId)
        if (sync?.state === 'error') throw new Error(`${this.name}: document sync failed: ${sync.error}`)
        return sync?.state === 'synced'
      },
      {
        timeoutMs,
        describe: () =>
          `${this.name} to report '${this.documentId}' synced (sync state: ${show(this.kit.getSyncState(this.documentId))})`,
      },
    )
  }

  /** The SDK's own `WebSocketClient.disconnect()`: no reconnect until `online()`. */
  offline(): void {
    this.socket().disconnect()
  }

  /** The SDK's own `WebSocketClient.connect()`: resubscribes, then replays its offline queue. */
  async online(): Promise<void> {
    await within(this.socket().connect(), 5_000, `${this.name}: reconnect`)
  }

  /** Everything the app would call on unmount: unsubscribe, close the socket. */
  close(): void {
    this.kit.dispose()
  }

  /**
   * SDK 0.1.1 waits 5 s for an `ack` and has no option for it: lower the private
   * `SyncManager.ACK_TIMEOUT` (negative controls only, to fail fast).
   */
  setAckTimeout(ms: number): void {
    const manager: unknown = Reflect.get(this.kit, 'syncManager')
    if (
      typeof manager !== 'object' ||
      manager === null ||
      typeof Reflect.get(manager, 'ACK_TIMEOUT') !== 'number'
    ) {
      throw new Error('SDK internals changed: SyncKit#syncManager.ACK_TIMEOUT not found')
    }
    Reflect.set(manager, 'ACK_TIMEOUT', ms)
  }

  /** The SDK keeps its `WebSocketClient` private; `SyncKit` only exposes `dispose()`. */
  private socket(): SdkSocket {
    const socket: unknown = Reflect.get(this.kit, 'websocket')
    if (!isSdkSocket(socket))
      throw new Error('SDK internals changed: SyncKit#websocket is not a WebSocketClient')
    return socket
  }
}

/** A second-dialect peer (SyncKit's legacy test client, docs/protocol.md §10.3) via `synckit-engine/client`. */
export class LegacyPeer implements Peer {
  readonly kind = 'legacy'

  private constructor(
    readonly name: string,
    readonly client: SyncClient,
    readonly documentId: string,
  ) {}

  static async open(scope: Scope, url: string, documentId: string, name: string): Promise<LegacyPeer> {
    const client = createSyncClient({
      url,
      dialect: 'legacy',
      WebSocket,
      clientId: name,
      reconnect: { initialDelayMs: 50, maxDelayMs: 400 },
      requestTimeoutMs: 5_000,
    })
    scope.add(() => client.close())
    await within(client.connect(), 10_000, `${name}: connect`)
    await within(client.subscribe(documentId), 10_000, `${name}: subscribe`)
    return new LegacyPeer(name, client, documentId)
  }

  state(): State {
    return this.client.get(this.documentId) ?? {}
  }

  set(field: string, value: JsonValue): Promise<void> {
    return this.client.set(this.documentId, field, value)
  }

  delete(field: string): Promise<void> {
    return this.client.delete(this.documentId, field)
  }
}

// ------------------------------------------------------------------ server state probe

/** The server's view of a document, read over the wire by a raw `sync_request`. */
export interface ServerView {
  /** `sync_response.state`: live fields (tombstones excluded). */
  state: State
  /** `sync_response.clock`. */
  clock: Record<string, number>
  /** Fields whose register is a tombstone (from `deltas` against an empty vector clock). */
  tombstones: string[]
}

const SYNC_REQUEST = 0x12
const SYNC_RESPONSE = 0x13

function binaryFrame(code: number, payload: Record<string, unknown>): Buffer {
  const body = Buffer.from(JSON.stringify(payload), 'utf8')
  const frame = Buffer.alloc(13 + body.length)
  frame.writeUInt8(code, 0)
  frame.writeBigInt64BE(BigInt(Date.now()), 1)
  frame.writeUInt32BE(body.length, 9)
  body.copy(frame, 13)
  return frame
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * One raw socket (hand-built frames, independent of src/protocol and src/client) asking the
 * server for a document's state as often as needed: second-dialect `sync_request {id,
 * documentId, vectorClock: {}}`, answered by `sync_response {requestId: id}`.
 */
export class ServerProbe {
  readonly #ws: WebSocket
  readonly #waiters = new Map<string, (payload: Record<string, unknown>) => void>()
  #n = 0

  private constructor(ws: WebSocket) {
    this.#ws = ws
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary || data.length < 13 || data.readUInt8(0) !== SYNC_RESPONSE) return
      const payload: unknown = JSON.parse(data.subarray(13, 13 + data.readUInt32BE(9)).toString('utf8'))
      if (!isRecord(payload) || typeof payload.requestId !== 'string') return
      this.#waiters.get(payload.requestId)?.(payload)
    })
  }

  static async open(url: string): Promise<ServerProbe> {
    const ws = new WebSocket(url)
    await within(
      new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve())
        ws.once('error', reject)
      }),
      5_000,
      'server probe connect',
    )
    ws.on('error', () => {})
    return new ServerProbe(ws)
  }

  async read(documentId: string, timeoutMs = 3_000): Promise<ServerView> {
    const id = `probe-${++this.#n}`
    const response = new Promise<Record<string, unknown>>((resolve) => this.#waiters.set(id, resolve))
    this.#ws.send(binaryFrame(SYNC_REQUEST, { id, documentId, vectorClock: {} }))
    try {
      const payload = await within(response, timeoutMs, `sync_response to probe sync_request '${id}'`)
      const state = isRecord(payload.state) ? payload.state : {}
      const clock: Record<string, number> = {}
      if (isRecord(payload.clock)) {
        for (const [node, seq] of Object.entries(payload.clock))
          if (typeof seq === 'number') clock[node] = seq
      }
      const tombstones: string[] = []
      for (const delta of Array.isArray(payload.deltas) ? payload.deltas : []) {
        if (isRecord(delta) && delta.deleted === true && typeof delta.field === 'string')
          tombstones.push(delta.field)
      }
      return { state, clock, tombstones }
    } finally {
      this.#waiters.delete(id)
    }
  }

  close(): void {
    this.#ws.terminate()
  }
}

/** One-shot read of the server's state of `documentId`. */
export async function serverView(url: string, documentId: string): Promise<ServerView> {
  const probe = await ServerProbe.open(url)
  try {
    return await probe.read(documentId)
  } finally {
    probe.close()
  }
}

// ------------------------------------------------------------------ convergence

/** What a peer must show given the server's view: SDK 0.1.1 keeps tombstones as a value. */
export function expectedFor(peer: Peer, view: ServerView): State {
  if (peer.kind === 'legacy' || view.tombstones.length === 0) return view.state
  const expected: State = { ...view.state }
  for (const field of view.tombstones) expected[field] = { __deleted: true }
  return expected
}

export interface ConvergeOptions {
  /** Default 8000 ms. */
  timeoutMs?: number
  /** Fields the server (hence every peer) must hold with exactly these values. */
  must?: State
  /** Fields whose value must be one of these (a conflict: any single winner). */
  oneOf?: Record<string, unknown[]>
  /** Fields nobody may hold (deleted ones, for legacy peers and the server state). */
  absent?: string[]
}

/**
 * Polls until every peer's state equals what the server's state says it should be, and the
 * server's state satisfies `must`/`oneOf`/`absent`. Returns the server's view. On timeout the
 * error lists, per client, each field it lacks or holds with another value, and what it has.
 */
export async function converge(
  url: string,
  documentId: string,
  peers: readonly Peer[],
  options: ConvergeOptions = {},
): Promise<ServerView> {
  const timeoutMs = options.timeoutMs ?? 8_000
  const deadline = Date.now() + timeoutMs
  const probe = await ServerProbe.open(url)
  try {
    for (;;) {
      const view = await probe.read(documentId)
      const problems = convergenceProblems(peers, view, options)
      if (problems.length === 0) return view
      if (Date.now() >= deadline) {
        const errors = recentSdkErrors()
        throw new Error(
          [
            `Not converged on '${documentId}' after ${timeoutMs} ms:`,
            ...problems.map((problem) => `  - ${problem}`),
            `  server state: ${show(view.state)}${view.tombstones.length > 0 ? ` tombstones: ${view.tombstones.join(', ')}` : ''}`,
            ...(errors.length > 0
              ? ['  recent SDK console.error:', ...errors.map((e) => `    ${truncate(e, 300)}`)]
              : []),
          ].join('\n'),
        )
      }
      await sleep(40)
    }
  } finally {
    probe.close()
  }
}

export function convergenceProblems(
  peers: readonly Peer[],
  view: ServerView,
  options: ConvergeOptions,
): string[] {
  const problems: string[] = []
  for (const [field, value] of Object.entries(options.must ?? {})) {
    if (!Object.hasOwn(view.state, field))
      problems.push(`server lacks field '${field}' (expected ${show(value)})`)
    else if (!isDeepStrictEqual(view.state[field], value)) {
      problems.push(`server has '${field}' = ${show(view.state[field])}, expected ${show(value)}`)
    }
  }
  for (const [field, candidates] of Object.entries(options.oneOf ?? {})) {
    if (!Object.hasOwn(view.state, field))
      problems.push(`server lacks field '${field}' (expected one of ${show(candidates)})`)
    else if (!candidates.some((candidate) => isDeepStrictEqual(candidate, view.state[field]))) {
      problems.push(`server has '${field}' = ${show(view.state[field])}, expected one of ${show(candidates)}`)
    }
  }
  for (const field of options.absent ?? []) {
    if (Object.hasOwn(view.state, field)) problems.push(`server still has deleted field '${field}'`)
  }
  for (const peer of peers) problems.push(...peerProblems(peer.name, peer.state(), expectedFor(peer, view)))
  return problems
}

/** Differences of one client's state from what it should hold, each naming client and field. */
export function peerProblems(name: string, actual: State, expected: State): string[] {
  const problems: string[] = []
  for (const [field, value] of Object.entries(expected)) {
    if (!Object.hasOwn(actual, field))
      problems.push(`${name} lacks field '${field}' (server: ${show(value)})`)
    else if (!isDeepStrictEqual(actual[field], value)) {
      problems.push(`${name} has '${field}' = ${show(actual[field])}, server: ${show(value)}`)
    }
  }
  for (const field of Object.keys(actual)) {
    if (!Object.hasOwn(expected, field)) {
      problems.push(`${name} has field '${field}' = ${show(actual[field])} that the server lacks`)
    }
  }
  if (problems.length > 0) problems.push(`${name} has: ${show(actual)}`)
  return problems
}

// ------------------------------------------------------------------ values

/** Every JSON type, nested and empty containers, falsy scalars, non-ASCII text. */
export const JSON_VALUES: Readonly<Record<string, JsonValue>> = {
  text: 'héllo ✓ 🚀 "quoted" \\ back\nslash',
  emptyText: '',
  int: 42,
  negative: -7,
  float: 1.25,
  tiny: 2.5e-7,
  maxSafe: 9_007_199_254_740_991,
  zero: 0,
  yes: true,
  no: false,
  nothing: null,
  list: [1, 'two', null, false, { three: 3 }, [4, [5]]],
  emptyList: [],
  emptyObject: {},
  nested: { a: { b: { c: [1, { d: 'deep', e: null }] } }, flag: true, n: -0.5 },
}

/** Splits `values` into `parts` round-robin slices (one per client). */
export function partition(
  values: Readonly<Record<string, JsonValue>>,
  parts: number,
  prefix = '',
): Record<string, JsonValue>[] {
  const slices: Record<string, JsonValue>[] = Array.from({ length: parts }, () => ({}))
  Object.entries(values).forEach(([field, value], i) => {
    const slice = slices[i % parts]
    if (slice) slice[`${prefix}${field}`] = value
  })
  return slices
}

// ------------------------------------------------------------------ formatting

export function show(value: unknown): string {
  let text: string
  try {
    text = value === undefined ? 'undefined' : JSON.stringify(value)
  } catch {
    text = String(value)
  }
  return truncate(text, 400)
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
