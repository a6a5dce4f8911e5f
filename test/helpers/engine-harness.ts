import { LwwDocument } from '../../src/crdt/index.js'
import type { DocumentSnapshot } from '../../src/crdt/types.js'
import { SyncEngine } from '../../src/engine/index.js'
import type {
  ConnectionInfo,
  Effect,
  EngineOptions,
  Principal,
  PublishEffect,
  Resolution,
} from '../../src/engine/types.js'
import { decodeServerFrame, encodeFrame, encodeServerMessage } from '../../src/protocol/index.js'
import type { ServerMessage, WireFormat } from '../../src/protocol/types.js'

export interface HarnessOptions extends Partial<EngineOptions> {
  /** Resolve `authenticate` effects: token -> principal (null = refuse). */
  authenticate?: (token: string | undefined, apiKey: string | undefined) => Principal | null
  /** When false, effects needing the runtime (load, persist, authenticate) wait for `settle()`. */
  autoSettle?: boolean
  /** The document store; pass one map to several harnesses to model nodes sharing a database. */
  store?: Map<string, DocumentSnapshot>
  /** Start time (ms); `now` is a plain field afterwards and may also go backwards. */
  now?: number
  /**
   * When true, a `persist` effect reaches the store only when its `persisted` resolution is
   * settled (a commit that takes time), instead of as soon as the effect is emitted.
   */
  commitOnSettle?: boolean
}

/**
 * A synchronous, in-memory runtime for the engine: it interprets effects the way the real runtime
 * does (loads from a map store, persists by LWW merge, delivers sends through the real codecs) so
 * tests can drive the whole engine deterministically.
 */
export class EngineHarness {
  readonly engine: SyncEngine
  readonly store: Map<string, DocumentSnapshot>
  readonly inbox = new Map<string, ServerMessage[]>()
  readonly closed = new Map<string, { code: number; reason: string }>()
  readonly effects: Effect[] = []
  readonly pending: Resolution[] = []
  /** Every `publish` effect, in order, for a test broker to deliver to other nodes. */
  readonly published: PublishEffect[] = []
  /** Cluster topics (document ids) the engine is subscribed to, per its topic effects. */
  readonly topics = new Set<string>()
  /** `commitOnSettle`: the snapshots of each persist batch, written when it is settled. */
  readonly #uncommitted = new Map<number, readonly DocumentSnapshot[]>()
  now: number
  #ids = 0
  readonly #options: HarnessOptions

  constructor(options: HarnessOptions = {}) {
    this.#options = options
    this.store = options.store ?? new Map()
    this.now = options.now ?? 1_000_000
    this.engine = new SyncEngine({
      nodeId: options.nodeId ?? 'node-a',
      anonymous: options.anonymous ?? true,
      durableAcks: options.durableAcks ?? true,
      resendFieldsOnSubscribe: options.resendFieldsOnSubscribe ?? false,
      newId: options.newId ?? (() => `m${++this.#ids}`),
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.authorize ? { authorize: options.authorize } : {}),
      ...(options.validate ? { validate: options.validate } : {}),
      ...(options.anonymousPermissions ? { anonymousPermissions: options.anonymousPermissions } : {}),
    })
  }

  open(conn: string, info?: ConnectionInfo): void {
    this.inbox.set(conn, [])
    this.#apply(this.engine.open(conn, this.now, info))
  }

  /** Sends one client message in the given encoding and runs the turn to completion. */
  send(conn: string, type: string, fields: Record<string, unknown>, format: WireFormat = 'binary'): void {
    this.sendRaw(conn, encodeFrame(type, fields, this.now, format))
  }

  sendRaw(conn: string, frame: string | Uint8Array): void {
    this.#apply(this.engine.receive(conn, frame, this.now))
    this.flush()
  }

  /** Feeds one frame without ending the turn: no flush, nothing settled. */
  receive(conn: string, frame: string | Uint8Array): void {
    this.#apply(this.engine.receive(conn, frame, this.now))
  }

  /** The transport closed, without ending the turn (compare `close`, which flushes). */
  disconnect(conn: string): void {
    this.#apply(this.engine.close(conn, this.now))
  }

  /** Interprets effects obtained by calling the engine directly. */
  apply(effects: Effect[]): void {
    this.#apply(effects)
  }

  /** True when no runtime effect waits for `settle()` and the engine has nothing to flush. */
  get idle(): boolean {
    return this.pending.length === 0 && !this.engine.hasPendingFlush
  }

  close(conn: string): void {
    this.#apply(this.engine.close(conn, this.now))
    this.flush()
  }

  tick(advanceMs = 0): void {
    this.now += advanceMs
    this.#apply(this.engine.tick(this.now))
    this.flush()
  }

  flush(): void {
    this.#apply(this.engine.flush(this.now))
    if (this.#options.autoSettle !== false) this.settle()
  }

  /** Completes every outstanding runtime effect (and whatever they trigger). */
  settle(): void {
    let guard = 0
    while (this.pending.length > 0) {
      if (++guard > 10_000) throw new Error('harness: resolution loop did not settle')
      const next = this.pending.shift()
      if (!next) break
      if (next.kind === 'persisted') {
        for (const snapshot of this.#uncommitted.get(next.batchId) ?? []) this.#save(snapshot)
        this.#uncommitted.delete(next.batchId)
      }
      this.#apply(this.engine.resolve(next, this.now))
      this.#apply(this.engine.flush(this.now))
    }
  }

  /**
   * The store refuses the oldest outstanding persist batch: nothing of it is committed (needs
   * `commitOnSettle`) and the engine gets `persist-failed`. False when no persist is outstanding.
   */
  failPersist(error = 'store unavailable'): boolean {
    const index = this.pending.findIndex((r) => r.kind === 'persisted')
    const next = this.pending[index]
    if (next?.kind !== 'persisted') return false
    this.pending.splice(index, 1)
    this.#uncommitted.delete(next.batchId)
    this.#apply(this.engine.resolve({ kind: 'persist-failed', batchId: next.batchId, error }, this.now))
    return true
  }

  resolve(result: Resolution): void {
    this.#apply(this.engine.resolve(result, this.now))
    this.flush()
  }

  messages(conn: string): ServerMessage[] {
    return this.inbox.get(conn) ?? []
  }

  take(conn: string): ServerMessage[] {
    const list = this.inbox.get(conn) ?? []
    this.inbox.set(conn, [])
    return list
  }

  ofType<T extends ServerMessage['type']>(conn: string, type: T): Extract<ServerMessage, { type: T }>[] {
    return this.messages(conn).filter((m): m is Extract<ServerMessage, { type: T }> => m.type === type)
  }

  #apply(effects: Effect[]): void {
    for (const effect of effects) {
      this.effects.push(effect)
      switch (effect.kind) {
        case 'send':
          this.#deliver(effect.to, effect.message)
          break
        case 'close':
          this.closed.set(effect.conn, { code: effect.code, reason: effect.reason })
          this.#apply(this.engine.close(effect.conn, this.now))
          break
        case 'load': {
          const stored = this.store.get(effect.documentId)
          this.pending.push({
            kind: 'loaded',
            snapshot: stored
              ? structuredClone(stored)
              : { documentId: effect.documentId, registers: [], clock: {} },
          })
          break
        }
        case 'persist':
          if (this.#options.commitOnSettle)
            this.#uncommitted.set(effect.batchId, structuredClone(effect.documents))
          else for (const snapshot of effect.documents) this.#save(snapshot)
          this.pending.push({ kind: 'persisted', batchId: effect.batchId })
          break
        case 'publish':
          this.published.push(effect)
          break
        case 'subscribe-topic':
          this.topics.add(effect.documentId)
          break
        case 'unsubscribe-topic':
          this.topics.delete(effect.documentId)
          break
        case 'authenticate': {
          const principal =
            this.#options.authenticate?.(effect.credentials.token, effect.credentials.apiKey) ?? null
          this.pending.push(
            principal
              ? { kind: 'authenticated', conn: effect.conn, principal }
              : { kind: 'authentication-failed', conn: effect.conn, reason: 'refused' },
          )
          break
        }
        default:
          break
      }
    }
  }

  #deliver(to: readonly string[], message: ServerMessage): void {
    for (const conn of to) {
      const format = this.engine.wireFormat(conn)
      const decoded = decodeServerFrame(encodeServerMessage(message, format))
      if (!decoded.ok) throw new Error(`harness: server sent an undecodable ${message.type}`)
      this.inbox.get(conn)?.push(decoded.message)
    }
  }

  #save(snapshot: DocumentSnapshot): void {
    const existing = this.store.get(snapshot.documentId)
    const doc = new LwwDocument(snapshot.documentId, existing)
    for (const register of snapshot.registers) doc.applyRemote(register)
    const merged = doc.snapshot()
    for (const [node, seq] of Object.entries(snapshot.clock)) {
      merged.clock[node] = Math.max(merged.clock[node] ?? 0, seq)
    }
    this.store.set(snapshot.documentId, merged)
  }
}
