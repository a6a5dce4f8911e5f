/**
 * Models of the three client dialects the engine serves (docs/protocol.md §10.1, §10.2, §10.3), reduced to
 * what matters for convergence: the frames they send, and how they apply what they receive.
 *
 * - `legacy`: SyncKit's test client. `auth {id}` + `sync_request {id}`; writes `delta {delta: {f: v}}`
 *   (deletes as `{__deleted: true}`); ADOPTS every echo and replaces its copy with `sync_response.state`.
 * - `sdk`: SDK 0.3. `subscribe` (or `sync_request` with its vector clock, applying `deltas`); writes
 *   `delta_batch` set ops; applies everything through a per-field LWW keyed (clock number, clientId),
 *   so it REJECTS an echo whose (max(clock), 'server') is below its entry (D5, docs/protocol.md §6.4).
 * - `sdk01`: SDK 0.1.1. Single-field `delta` writes, retried on reconnect until acked; ignores
 *   `sync_response.state` (it relies on the server re-sending fields as `delta` frames).
 *
 * Every client also checks what it receives: D6 of docs/protocol.md §11 (never a field value with an empty clock), no
 * `error` frames, and (legacy) `requestId` matching one of its requests.
 */
import { encodeFrame } from '../../src/protocol/index.js'
import type { JsonValue, ServerMessage, VectorClock } from '../../src/protocol/types.js'

export type Dialect = 'legacy' | 'sdk' | 'sdk01'

/** One field write as the reference model applies it. */
export interface RefWrite {
  field: string
  value: JsonValue
  deleted: boolean
}

/** A frame a client sent: its bytes, and the writes it carries (what the server will apply). */
export interface OutFrame {
  readonly bytes: Uint8Array
  readonly writes: readonly RefWrite[]
  readonly label: string
  /** `subscribe` or `sync_request`: the frame that (re)synchronises the connection. */
  readonly handshake: boolean
}

export interface SetOp {
  field: string
  value: JsonValue
}

export interface ClientOptions {
  /** SDK models only, a workaround for engine bugs: a server value wins an exact (clock, 'server') tie. */
  adoptServerTies?: boolean
}

export interface ConnectOptions {
  /** SDK 0.3 only: resync with `sync_request {vectorClock}` and apply `deltas` instead of `subscribe`. */
  viaSyncRequest?: boolean
}

export const TOMBSTONE: JsonValue = { __deleted: true }

export function isTombstone(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>).__deleted === true
}

/** A state as sorted [field, value] pairs: order-free, `__proto__`-safe, and readable in a diff. */
export function canonical(state: Map<string, JsonValue> | Record<string, unknown>): [string, unknown][] {
  const entries: [string, unknown][] = state instanceof Map ? [...state.entries()] : Object.entries(state)
  return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

function frame(type: string, fields: Record<string, unknown>, writes: RefWrite[], now: number): OutFrame {
  const bytes = encodeFrame(type, fields, now, 'binary')
  if (typeof bytes === 'string') throw new Error('binary frame expected')
  const label = writes.length > 0 ? `${type}(${writes.map((w) => w.field).join(',')})` : type
  return { bytes, writes, label, handshake: type === 'subscribe' || type === 'sync_request' }
}

function hasEntries(record: object): boolean {
  return Object.keys(record).length > 0
}

export abstract class ClientModel {
  abstract readonly dialect: Dialect
  /** Connection id while connected; `undefined` while offline. */
  conn: string | undefined
  /** Index of the node (engine) the client is connected, or was last connected, to. */
  node = 0
  /** Frames sent on the current connection and not yet delivered to the engine, in order. */
  readonly outbox: OutFrame[] = []
  /** Frames written while offline, replayed after the handshake on reconnect. */
  protected readonly offlineQueue: OutFrame[] = []
  readonly violations: string[] = []
  /** The client's wall clock, for frame headers only (servers ignore client time). */
  now = 0
  protected requestSeq = 0

  constructor(
    readonly id: string,
    readonly documentId: string,
    readonly options: ClientOptions = {},
  ) {}

  get connected(): boolean {
    return this.conn !== undefined
  }

  /** A new connection: the dialect's handshake, then whatever was queued while offline. */
  connect(conn: string, node: number, options: ConnectOptions = {}): void {
    this.conn = conn
    this.node = node
    this.outbox.push(...this.handshake(options), ...this.replayOnConnect())
  }

  /** The socket is gone: frames still in the outbox must have been handled by the caller. */
  disconnect(): void {
    this.conn = undefined
    this.outbox.length = 0
  }

  abstract set(ops: readonly SetOp[]): void
  abstract visibleState(): Map<string, JsonValue>

  /** Applies a message from the server (after checking it). */
  receive(message: ServerMessage): void {
    this.inspect(message)
    this.apply(message)
  }

  /** Checks a message without applying it (also used for messages lost with a closed socket). */
  inspect(message: ServerMessage): void {
    const where = `${this.id} got ${message.type}`
    if (message.type === 'delta' && !hasEntries(message.clock)) {
      this.violations.push(`${where} for ${message.field} with an empty clock (D6, docs/protocol.md §6.4)`)
    }
    if (message.type === 'sync_response') {
      const carriesValues = hasEntries(message.state) || message.deltas.length > 0
      if (carriesValues && !hasEntries(message.clock))
        this.violations.push(`${where} with an empty clock (D6, docs/protocol.md §6.4)`)
      for (const delta of message.deltas) {
        if (!isClock(delta.clock) || !hasEntries(delta.clock)) {
          this.violations.push(
            `${where}: delta for ${String(delta.field)} without a clock (D6, docs/protocol.md §6.4)`,
          )
        }
      }
    }
    // A refused persist is reported to the writer and retried by the engine: not a violation.
    if (message.type === 'error' && message.details?.code !== 'PERSIST_FAILED') {
      this.violations.push(`${where}: ${message.error}`)
    }
  }

  protected abstract handshake(options: ConnectOptions): OutFrame[]
  protected abstract apply(message: ServerMessage): void

  protected replayOnConnect(): OutFrame[] {
    return this.offlineQueue.splice(0)
  }

  protected send(out: OutFrame): void {
    if (this.connected) this.outbox.push(out)
    else this.offlineQueue.push(out)
  }

  protected frame(type: string, fields: Record<string, unknown>, writes: RefWrite[] = []): OutFrame {
    return frame(type, fields, writes, this.now)
  }

  protected nextId(prefix: string): string {
    return `${this.id}-${prefix}${++this.requestSeq}`
  }
}

function isClock(value: unknown): value is VectorClock {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

// ------------------------------------------------------------------------------------------ legacy

/** SyncKit's test client (docs/protocol.md §10.3): adopts whatever the server says. */
export class LegacyClient extends ClientModel {
  readonly dialect = 'legacy'
  readonly #fields = new Map<string, JsonValue>()
  readonly #requests = new Set<string>()

  protected handshake(): OutFrame[] {
    const requestId = this.nextId('sync')
    this.#requests.add(requestId)
    return [
      this.frame('auth', { id: this.nextId('auth') }),
      this.frame('sync_request', { id: requestId, documentId: this.documentId }),
    ]
  }

  set(ops: readonly SetOp[]): void {
    for (const { field, value } of ops) {
      this.#fields.set(field, value)
      this.#sendDelta(field, value, { field, value, deleted: false })
    }
  }

  delete(field: string): void {
    this.#fields.delete(field)
    this.#sendDelta(field, TOMBSTONE, { field, value: null, deleted: true })
  }

  visibleState(): Map<string, JsonValue> {
    return new Map(this.#fields)
  }

  protected apply(message: ServerMessage): void {
    if (message.type === 'sync_response') {
      if (!this.#requests.has(message.requestId)) {
        // A write that subscribes the connection is answered with a sync keyed by the write's id;
        // the real client has no callback for it and ignores it.
        if (!message.requestId.startsWith(`${this.id}-d`)) {
          this.violations.push(`${this.id}: sync_response with unknown requestId ${message.requestId}`)
        }
        return
      }
      // "If `state` is truthy it replaces the local copy of the document."
      this.#fields.clear()
      for (const [field, value] of Object.entries(message.state)) this.#fields.set(field, value)
    } else if (message.type === 'delta') {
      if (isTombstone(message.value)) this.#fields.delete(message.field)
      else this.#fields.set(message.field, message.value)
      // The test client acks every received delta that has an id.
      if (message.id) this.send(this.frame('ack', { id: this.nextId('ack'), messageId: message.id }))
    }
  }

  #sendDelta(field: string, value: JsonValue, write: RefWrite): void {
    const fields = {
      id: this.nextId('d'),
      documentId: this.documentId,
      delta: { [field]: value },
      vectorClock: {},
    }
    this.send(this.frame('delta', fields, [write]))
  }
}

// ----------------------------------------------------------------------------------- SDK LWW base

interface Entry {
  value: JsonValue
  /** Clock number: the client's own counter for its writes, max(clock) for server values. */
  num: number
  by: string
}

/**
 * Rust core `merge_field`: greater (clock, clientId) wins; a full tie goes to the greater JSON
 * text. `adoptTies` (a test workaround, not SDK behaviour) lets a server value win a full tie.
 */
function wins(incoming: Entry, local: Entry | undefined, adoptTies: boolean): boolean {
  if (local === undefined) return true
  if (incoming.num !== local.num) return incoming.num > local.num
  if (incoming.by !== local.by) return incoming.by > local.by
  if (adoptTies && incoming.by === 'server') return true
  return JSON.stringify(incoming.value) > JSON.stringify(local.value)
}

/** The SDKs' replica: per-field LWW plus a vector clock (own counter + merged server clocks). */
abstract class SdkReplica extends ClientModel {
  readonly #fields = new Map<string, Entry>()
  readonly #clock = new Map<string, number>()
  #counter = 0

  visibleState(): Map<string, JsonValue> {
    // The SDK stores `{__deleted: true}` literally; an app reading it treats the field as gone.
    const out = new Map<string, JsonValue>()
    for (const [field, entry] of this.#fields) if (!isTombstone(entry.value)) out.set(field, entry.value)
    return out
  }

  /** A local write: next own counter, applied through the local LWW (it may lose: D5, docs/protocol.md §6.4). */
  protected localSet(field: string, value: JsonValue): VectorClock {
    this.#counter += 1
    this.#clock.set(this.id, this.#counter)
    this.#put(field, { value, num: this.#counter, by: this.id })
    return this.clock()
  }

  /** A value from the server, compared as (max(clock), 'server'). */
  protected remoteSet(field: string, value: JsonValue, clock: unknown): void {
    if (!isClock(clock)) return
    const values = Object.values(clock).filter((n): n is number => typeof n === 'number')
    // An empty clock would crash the real SDK (D6, docs/protocol.md §6.4); `inspect` has recorded it.
    if (values.length === 0) return
    this.#put(field, { value, num: Math.max(...values), by: 'server' })
  }

  protected mergeClock(clock: VectorClock): void {
    for (const [node, n] of Object.entries(clock)) {
      if (n > (this.#clock.get(node) ?? 0)) this.#clock.set(node, n)
    }
  }

  protected clock(): VectorClock {
    return Object.fromEntries(this.#clock)
  }

  #put(field: string, entry: Entry): void {
    if (wins(entry, this.#fields.get(field), this.options.adoptServerTies === true))
      this.#fields.set(field, entry)
  }
}

// ------------------------------------------------------------------------------------------ SDK 0.3

/** SDK 0.3 (docs/protocol.md §10.1): `subscribe`, `delta_batch` writes, no retries, offline queue. */
export class SdkClient extends SdkReplica {
  readonly dialect = 'sdk'
  /** ids of our `sync_request`s: their responses are applied through `deltas`. */
  readonly #deltaRequests = new Set<string>()

  protected handshake(options: ConnectOptions): OutFrame[] {
    if (!options.viaSyncRequest) return [this.frame('subscribe', { documentId: this.documentId })]
    const id = this.nextId('sync')
    this.#deltaRequests.add(id)
    return [this.frame('sync_request', { id, documentId: this.documentId, vectorClock: this.clock() })]
  }

  set(ops: readonly SetOp[]): void {
    const deltas = ops.map(({ field, value }) => ({
      type: 'set',
      documentId: this.documentId,
      field,
      value,
      clock: this.localSet(field, value),
      clientId: this.id,
      timestamp: this.now,
    }))
    const writes = ops.map(({ field, value }) => ({ field, value, deleted: false }))
    const fields = { documentId: this.documentId, deltas, messageId: this.nextId('msg') }
    this.send(this.frame('delta_batch', fields, writes))
  }

  protected apply(message: ServerMessage): void {
    if (message.type === 'sync_response') {
      if (this.#deltaRequests.has(message.requestId)) {
        for (const delta of message.deltas) {
          if (typeof delta.field !== 'string' || delta.value === undefined) continue
          this.remoteSet(delta.field, delta.value, delta.clock)
        }
      } else {
        for (const [field, value] of Object.entries(message.state))
          this.remoteSet(field, value, message.clock)
      }
      this.mergeClock(message.clock)
    } else if (message.type === 'delta') {
      this.remoteSet(message.field, message.value, message.clock)
      this.mergeClock(message.clock)
    }
  }
}

// ---------------------------------------------------------------------------------------- SDK 0.1.1

/** SDK 0.1.1 (docs/protocol.md §10.2): single-field `delta`, unacked writes retried on reconnect. */
export class Sdk01Client extends SdkReplica {
  readonly dialect = 'sdk01'
  /** messageId -> frame fields of writes not acked yet (re-sent on every reconnect). */
  readonly #unacked = new Map<string, { fields: Record<string, unknown>; write: RefWrite }>()

  protected handshake(): OutFrame[] {
    return [this.frame('subscribe', { documentId: this.documentId })]
  }

  protected override replayOnConnect(): OutFrame[] {
    this.offlineQueue.length = 0
    return [...this.#unacked.values()].map(({ fields, write }) => this.frame('delta', fields, [write]))
  }

  set(ops: readonly SetOp[]): void {
    for (const { field, value } of ops) {
      const messageId = this.nextId('msg')
      const fields = {
        type: 'set',
        documentId: this.documentId,
        field,
        value,
        clock: this.localSet(field, value),
        clientId: this.id,
        timestamp: this.now,
        messageId,
      }
      const write = { field, value, deleted: false }
      this.#unacked.set(messageId, { fields, write })
      this.send(this.frame('delta', fields, [write]))
    }
  }

  protected apply(message: ServerMessage): void {
    if (message.type === 'ack') this.#unacked.delete(message.messageId)
    else if (message.type === 'sync_response')
      this.mergeClock(message.clock) // `state` is ignored
    else if (message.type === 'delta') {
      this.remoteSet(message.field, message.value, message.clock)
      this.mergeClock(message.clock)
    }
  }
}

export function createClient(
  dialect: Dialect,
  id: string,
  documentId: string,
  options: ClientOptions = {},
): ClientModel {
  switch (dialect) {
    case 'legacy':
      return new LegacyClient(id, documentId, options)
    case 'sdk':
      return new SdkClient(id, documentId, options)
    case 'sdk01':
      return new Sdk01Client(id, documentId, options)
  }
}
