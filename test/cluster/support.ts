import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { WebSocket } from 'ws'
import { createPostgresStore } from '../../adapters/postgres.js'
import { createSyncClient } from '../../src/client/index.js'
import type { ClientDialect, SyncClient, WebSocketConstructorLike } from '../../src/client/types.js'
import { decodeClientFrame } from '../../src/protocol/index.js'
import type { JsonValue, ServerMessage } from '../../src/protocol/types.js'
import { waitFor, within } from '../helpers/wait-for.js'

/** Shared pieces of the multi-node, crash and outage tests. */

/** Deterministic PRNG (mulberry32): the same seed gives the same operations. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A Redis channel prefix for this test run: `synckit_test_<pid>_<random>:`. */
export function testRedisPrefix(): string {
  return `synckit_test_${process.pid}_${randomBytes(4).toString('hex')}:`
}

/** Deletes keys carrying the run's prefix (pub/sub leaves none, but nothing may stay behind). */
export async function cleanRedisPrefix(url: string, prefix: string): Promise<void> {
  if (!/^synckit_test_\w+:$/.test(prefix)) throw new Error(`refusing to clean ${prefix}`)
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true })
  try {
    await redis.connect()
    let cursor = '0'
    let rounds = 0
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500)
      cursor = next
      if (keys.length > 0) await redis.del(...keys)
    } while (cursor !== '0' && ++rounds < 1000)
  } finally {
    redis.disconnect()
  }
}

export interface ClientOptions {
  url: string
  dialect: ClientDialect
  clientId?: string
  /** Default: fast reconnects (tests move clients between nodes). */
  reconnect?: false
  requestTimeoutMs?: number
  /** Record writes and their acks (see `AckTracker`). */
  tracker?: AckTracker
}

export function makeClient(options: ClientOptions): SyncClient {
  const client = createSyncClient({
    url: options.url,
    WebSocket: options.tracker?.WebSocket ?? WebSocket,
    dialect: options.dialect,
    ...(options.clientId === undefined ? {} : { clientId: options.clientId }),
    reconnect: options.reconnect ?? { initialDelayMs: 50, maxDelayMs: 300, factor: 1.5 },
    requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
  })
  options.tracker?.watch(client)
  return client
}

/** One field write as sent on the wire; `value` undefined for a delete. */
export interface SentWrite {
  documentId: string
  field: string
  value: JsonValue | undefined
}

/**
 * What "acked" means on the wire, for both dialects: the server's `ack {messageId}` frame. (The
 * legacy dialect's `set` resolves on the echo of its own value, as SyncKit's test client does,
 * docs/protocol.md §10.3, §5.9, and the echo is sent before the commit: it is no durability signal.)
 *
 * `WebSocket` is a `ws` subclass that decodes every outgoing write frame and remembers its
 * messageId; `watch(client)` listens for `ack` frames; `onAck` runs synchronously inside the
 * client's message callback, so a test can SIGKILL the server "right after" an ack.
 */
export class AckTracker {
  readonly sent = new Map<string, SentWrite[]>()
  readonly acked: SentWrite[] = []
  readonly WebSocket: WebSocketConstructorLike
  onAck: ((writes: SentWrite[]) => void) | undefined

  constructor() {
    const record = (data: unknown): void => this.#record(data)
    this.WebSocket = class TappedWebSocket extends WebSocket {
      constructor(url: string) {
        super(url)
        const send = this.send.bind(this)
        this.send = ((data: string | Uint8Array) => {
          record(data)
          send(data)
        }) as WebSocket['send']
      }
    }
  }

  watch(client: SyncClient): void {
    client.on('message', (message: ServerMessage) => {
      if (message.type !== 'ack') return
      const writes = this.sent.get(message.messageId)
      if (!writes) return
      this.sent.delete(message.messageId)
      this.acked.push(...writes)
      this.onAck?.(writes)
    })
  }

  #record(data: unknown): void {
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) return
    const decoded = decodeClientFrame(data)
    if (!decoded.ok) return
    const { message } = decoded
    if (message.type === 'delta') {
      const id = message.messageId ?? message.id
      if (id === undefined) return
      this.sent.set(
        id,
        message.writes.map((w) => ({
          documentId: message.documentId,
          field: w.field,
          value: w.deleted ? undefined : w.value,
        })),
      )
    } else if (message.type === 'delta_batch') {
      const id = message.messageId ?? message.id
      if (id === undefined) return
      const writes: SentWrite[] = []
      for (const op of message.ops) {
        if (op.kind !== 'field') continue
        writes.push({
          documentId: message.documentId,
          field: op.field,
          value: op.deleted ? undefined : op.value,
        })
      }
      this.sent.set(id, writes)
    }
  }
}

/** JSON with sorted keys at every level: equal states compare equal as strings. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  )
}

export type DocState = Record<string, JsonValue>

/** The live fields of each document as a fresh Postgres store loads them (the database's state). */
export async function databaseState(
  url: string,
  schema: string,
  documentIds: readonly string[],
): Promise<Record<string, DocState>> {
  const store = await createPostgresStore({ url, schema, migrate: false, max: 1 })
  try {
    const out: Record<string, DocState> = {}
    for (const documentId of documentIds) {
      const snapshot = await store.load(documentId)
      const state: DocState = {}
      for (const register of snapshot?.registers ?? []) {
        if (!register.deleted) state[register.field] = register.value
      }
      out[documentId] = state
    }
    return out
  } finally {
    await store.close()
  }
}

/**
 * Reads documents through a fresh client (a `sync_request` with the legacy dialect, `subscribe`
 * with the SDK one) on `url`, then closes it.
 */
export async function readThrough(
  url: string,
  dialect: ClientDialect,
  documentIds: readonly string[],
): Promise<Record<string, DocState>> {
  const reader = makeClient({ url, dialect, reconnect: false })
  try {
    await within(reader.connect(), 15_000, `reader connect ${url}`)
    const out: Record<string, DocState> = {}
    for (const documentId of documentIds) {
      await within(reader.subscribe(documentId), 15_000, `reader subscribe ${documentId}`)
      out[documentId] = { ...(reader.get(documentId) ?? {}) }
    }
    return out
  } finally {
    reader.close()
  }
}

export function statesOf(client: SyncClient, documentIds: readonly string[]): Record<string, DocState> {
  const out: Record<string, DocState> = {}
  for (const documentId of documentIds) out[documentId] = { ...(client.get(documentId) ?? {}) }
  return out
}

/** Waits until every client shows the same state of every document; returns it. */
export async function converged(
  clients: readonly SyncClient[],
  documentIds: readonly string[],
  timeoutMs: number,
): Promise<Record<string, DocState>> {
  let last: string[] = []
  try {
    await waitFor(
      () => {
        last = clients.map((c) => canonical(statesOf(c, documentIds)))
        return last.every((s) => s === last[0])
      },
      { timeoutMs, intervalMs: 50, message: 'all clients to converge' },
    )
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${last.map((s, i) => `  client ${i}: ${s}`).join('\n')}`)
  }
  const [first] = clients
  if (!first) return {}
  return statesOf(first, documentIds)
}

export interface OpLog {
  /** Every value written per `documentId\u0000field` (deletes recorded as `undefined`). */
  written: Map<string, Array<JsonValue | undefined>>
  acked: number
  failed: Array<{ op: string; error: string }>
}

export function newOpLog(): OpLog {
  return { written: new Map(), acked: 0, failed: [] }
}

/**
 * Every live field of `state` holds a value some client wrote to it (no field came from nowhere),
 * and every field that was only ever set is present. Returns the problems found.
 */
export function explainedBy(state: Record<string, DocState>, log: OpLog): string[] {
  const problems: string[] = []
  for (const [documentId, fields] of Object.entries(state)) {
    for (const [field, value] of Object.entries(fields)) {
      const values = log.written.get(`${documentId}\u0000${field}`)
      if (!values) problems.push(`${documentId}.${field} was never written`)
      else if (!values.some((v) => v !== undefined && canonical(v) === canonical(value)))
        problems.push(`${documentId}.${field} = ${canonical(value)} was never written there`)
    }
  }
  // A field that was only ever set (never deleted) cannot be missing.
  for (const [key, values] of log.written) {
    const [documentId = '', field = ''] = key.split('\u0000')
    if (values.every((v) => v !== undefined) && !(field in (state[documentId] ?? {})))
      problems.push(`${documentId}.${field} was set ${values.length} times but is missing`)
  }
  return problems
}
