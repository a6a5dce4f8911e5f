/**
 * A slim, synchronous runtime for fuzzing the engine: it performs every effect the way the real
 * runtime does (closes, loads and persists against an in-memory store, authentication against a
 * fixed token table), but lets the fuzzer choose *when* each runtime answer arrives and whether
 * it fails. Every effect and every state is checked against the invariants below as it happens.
 */
import fc from 'fast-check'
import { LwwDocument } from '../../src/crdt/index.js'
import type { DocumentSnapshot } from '../../src/crdt/types.js'
import { ANONYMOUS_PERMISSIONS, resolveLimits, SyncEngine } from '../../src/engine/index.js'
import type {
  ConnectionId,
  Credentials,
  Effect,
  EngineLimits,
  Principal,
  Resolution,
  SendEffect,
} from '../../src/engine/types.js'
import {
  decodeServerFrame,
  encodeFrame,
  encodeServerMessage,
  MAX_JSON_DEPTH,
  utf8Length,
} from '../../src/protocol/index.js'
import type { Permissions, WireFormat } from '../../src/protocol/types.js'
import {
  anyFrame,
  chunkSet,
  type Frame,
  framedMessage,
  type MessageSpec,
  messageSpec,
  TOKENS,
} from './frames.js'
import {
  canonicalJson,
  check,
  checkNoPollution,
  jsonDepth,
  nonJsonPath,
  preview,
  violation,
} from './invariants.js'

export interface DriverConfig {
  name: string
  /** Anonymous mode; otherwise every connection must authenticate. */
  anonymous: boolean
  durableAcks: boolean
  resendFieldsOnSubscribe: boolean
  limits?: Partial<EngineLimits>
}

export type Command =
  | { kind: 'frame'; slot: number; frame: Frame; advanceMs: number; flush: boolean }
  | { kind: 'chunks'; slot: number; frames: Frame[]; flush: boolean }
  | { kind: 'open'; slot: number }
  | { kind: 'close'; slot: number }
  | { kind: 'tick'; advanceMs: number }
  | { kind: 'flush' }
  | { kind: 'resolve'; pick: number; fail: boolean }
  | { kind: 'settle' }
  | { kind: 'revoke'; userId: string }

/** The token table of the fuzz authenticator; unknown credentials are refused. */
function principalFor(credentials: Credentials, now: number): Principal | undefined {
  const p = (userId: string, canRead: string[], canWrite: string[], isAdmin = false): Principal => ({
    userId,
    permissions: { canRead, canWrite, isAdmin },
    via: 'token',
  })
  switch (credentials.token) {
    case 'tok-admin':
      return p('admin', [], [], true)
    case 'tok-alice':
      return p('alice', ['doc-*'], ['doc-a*'])
    case 'tok-bob':
      return p('bob', ['__proto__', 'constructor', 'toString'], ['__proto__'])
    case 'tok-reader':
      return p('reader', ['*'], [])
    case 'tok-short':
      return { ...p('alice', ['doc-*'], ['doc-a*']), expiresAt: now + 2_000 }
  }
  switch (credentials.apiKey) {
    case 'key-service':
      return { ...p('service', ['*'], ['doc-*']), via: 'apiKey' }
    case 'key-reader':
      return { ...p('reader', ['room:*'], []), via: 'apiKey' }
  }
  return undefined
}

/** Independent oracle of the default RBAC policy (docs/protocol.md §5.1, D18). */
function mayRead(permissions: Permissions, documentId: string): boolean {
  if (permissions.isAdmin) return true
  const matches = (pattern: string): boolean =>
    pattern === '*' ||
    (pattern.endsWith('*') ? documentId.startsWith(pattern.slice(0, -1)) : pattern === documentId)
  return permissions.canWrite.some(matches) || permissions.canRead.some(matches)
}

/** Server messages that carry document data (as opposed to errors, pongs and auth replies). */
const DATA_TYPES: ReadonlySet<string> = new Set([
  'sync_response',
  'sync_step2',
  'delta',
  'delta_batch',
  'awareness_state',
  'awareness_update',
])

interface Tracked {
  id: ConnectionId
  /** `auth_success` seen (anonymous mode: authenticated at open). */
  authed: boolean
  /** Permissions of the last `auth_success` (anonymous: the anonymous grant). */
  permissions: Permissions | undefined
}

type Pending =
  | { kind: 'load'; documentId: string }
  | { kind: 'persist'; batchId: number; documents: readonly DocumentSnapshot[] }
  | { kind: 'auth'; conn: ConnectionId; principal: Principal | undefined }

export const SLOTS = 3
const START = 1_700_000_000_000

export class FuzzDriver {
  readonly engine: SyncEngine
  readonly limits: EngineLimits
  readonly config: DriverConfig
  /** Frames handed to `engine.receive` (chunks counted one by one). */
  frames = 0
  now = START
  readonly #store = new Map<string, DocumentSnapshot>()
  readonly #open = new Map<ConnectionId, Tracked>()
  readonly #slots: (ConnectionId | undefined)[] = new Array(SLOTS).fill(undefined)
  #generation = 0
  readonly #pending: Pending[] = []
  readonly #outstandingBatches = new Set<number>()
  readonly #loading = new Set<string>()
  #ids = 0
  /** What was being done when a violation fired (for the failure message). */
  #context = 'start'
  readonly #autoSettle: boolean
  /** Check documents after every step (costly with big documents; the memory test samples). */
  readonly #checkDocumentsEveryStep: boolean

  constructor(
    config: DriverConfig,
    options: { autoSettle?: boolean; checkDocumentsEveryStep?: boolean } = {},
  ) {
    this.config = config
    this.limits = resolveLimits(config.limits)
    this.#autoSettle = options.autoSettle ?? false
    this.#checkDocumentsEveryStep = options.checkDocumentsEveryStep ?? true
    this.engine = new SyncEngine({
      nodeId: 'node-fuzz',
      anonymous: config.anonymous,
      durableAcks: config.durableAcks,
      resendFieldsOnSubscribe: config.resendFieldsOnSubscribe,
      newId: () => `s${++this.#ids}`,
      ...(config.limits ? { limits: config.limits } : {}),
    })
  }

  get openConnections(): number {
    return this.#open.size
  }

  run(command: Command): void {
    switch (command.kind) {
      case 'frame': {
        this.now += command.advanceMs
        const conn = this.#connection(command.slot)
        this.#receive(conn, command.frame)
        if (command.flush) this.flush()
        break
      }
      case 'chunks': {
        const conn = this.#connection(command.slot)
        for (const frame of command.frames) {
          if (!this.#open.has(conn)) break
          this.#receive(conn, frame)
        }
        if (command.flush) this.flush()
        break
      }
      case 'open':
        this.#connection(command.slot)
        break
      case 'close': {
        const conn = this.#slots[command.slot]
        if (conn !== undefined && this.#open.has(conn)) {
          this.#context = `close(${conn})`
          this.#closed(conn)
        }
        break
      }
      case 'tick':
        this.tick(command.advanceMs)
        break
      case 'flush':
        this.flush()
        break
      case 'resolve':
        this.#resolveOne(command.pick, command.fail)
        break
      case 'settle':
        this.settle()
        break
      case 'revoke':
        this.#context = `revoke(${command.userId})`
        this.#apply(this.engine.revoke({ userId: command.userId }, this.now))
        break
    }
    if (this.#autoSettle) this.settle()
    this.checkState()
  }

  flush(): void {
    this.#context = `flush@${this.now}`
    this.#apply(this.engine.flush(this.now))
    check(
      !this.engine.hasPendingFlush,
      'flush-leftover',
      () => `work still queued right after flush (${this.#context})`,
    )
  }

  /** Flush, then tick: the idle-document bound must hold right after a tick. */
  tick(advanceMs: number): void {
    this.flush()
    this.now += advanceMs
    this.#context = `tick(+${advanceMs})@${this.now}`
    this.#apply(this.engine.tick(this.now))
    this.#checkIdleDocuments()
  }

  /** Completes every outstanding runtime effect successfully, flushing after each. */
  settle(): void {
    let guard = 0
    while (this.#pending.length > 0) {
      if (++guard > 10_000) {
        violation('settle-loop', 'resolutions keep producing resolutions')
        return
      }
      this.#resolveOne(0, false)
      this.flush()
    }
  }

  /** End of a run: settle, close everything, expire everything; nothing may be left behind. */
  finish(): void {
    this.settle()
    this.tick(0)
    for (const conn of [...this.#open.keys()]) this.#closed(conn)
    this.settle()
    this.tick(10 * 60_000)
    this.settle()
    this.tick(0)
    this.checkState()
    const stats = this.engine.stats()
    check(
      stats.connections === 0 && stats.subscriptions === 0 && stats.authenticatedConnections === 0,
      'leak-after-close',
      () => `connections remain after closing all: ${preview(stats)}`,
    )
    check(
      stats.awarenessClients === 0,
      'leak-after-close',
      () => `awareness clients remain: ${preview(stats)}`,
    )
    check(
      stats.pendingPersistBatches === 0,
      'leak-after-close',
      () => `persist batches remain: ${preview(stats)}`,
    )
    check(
      stats.documents <= this.limits.maxIdleDocuments,
      'idle-documents',
      () => `${stats.documents} documents kept after everything closed (max ${this.limits.maxIdleDocuments})`,
    )
  }

  /** Cross-checks of engine state after every step. */
  checkState(): void {
    const ctx = this.#context
    checkNoPollution(() => ctx)
    const stats = this.engine.stats()
    check(
      stats.connections === this.#open.size,
      'stats-connections',
      () => `${preview(stats)} vs ${this.#open.size} open (${ctx})`,
    )
    let authed = 0
    for (const t of this.#open.values()) if (t.authed) authed++
    check(
      stats.authenticatedConnections === authed,
      'stats-authenticated',
      () => `${stats.authenticatedConnections} authenticated vs ${authed} told auth_success (${ctx})`,
    )
    check(
      stats.subscriptions <= stats.connections * this.limits.maxDocumentsPerConnection,
      'subscription-bound',
      () => `${stats.subscriptions} subscriptions for ${stats.connections} connections (${ctx})`,
    )
    check(
      stats.awarenessClients <=
        stats.connections *
          this.limits.maxDocumentsPerConnection *
          this.limits.maxAwarenessClientsPerDocument,
      'awareness-bound',
      () => `${stats.awarenessClients} awareness clients for ${stats.connections} connections (${ctx})`,
    )
    check(
      stats.pendingPersistBatches === this.#outstandingBatches.size,
      'persist-batches',
      () =>
        `${stats.pendingPersistBatches} batches vs ${this.#outstandingBatches.size} unanswered persists (${ctx})`,
    )
    let subscribers = 0
    for (const documentId of this.engine.documentIds()) {
      const info = this.engine.documentInfo(documentId)
      if (!info) continue
      subscribers += info.subscribers
      check(
        info.fields <= this.limits.maxFieldsPerDocument,
        'field-quota',
        () => `${documentId} has ${info.fields} fields (${ctx})`,
      )
      if (this.#checkDocumentsEveryStep) this.checkDocument(documentId, info.fields)
    }
    check(
      subscribers === stats.subscriptions,
      'subscription-symmetry',
      () =>
        `documents count ${subscribers} subscribers, connections ${stats.subscriptions} subscriptions (${ctx})`,
    )
  }

  /** The document's visible state is JSON that survives a round trip, within the quotas. */
  checkDocument(documentId: string, liveFields?: number): void {
    const ctx = this.#context
    const state = this.engine.documentState(documentId)
    if (state === undefined) return
    const bad = nonJsonPath(state)
    if (bad !== undefined) {
      violation(
        /Infinity|NaN/.test(bad) ? 'nonfinite-number' : 'document-not-json',
        `document ${documentId} state is not JSON at ${bad} (${ctx})`,
      )
      return
    }
    check(
      canonicalJson(JSON.parse(JSON.stringify(state))) === canonicalJson(state),
      'document-not-json',
      () => `document ${documentId} state changes through JSON (${ctx})`,
    )
    const keys = Object.keys(state)
    if (liveFields !== undefined) {
      check(
        keys.length === liveFields,
        'live-field-count',
        () => `${documentId}: ${keys.length} visible fields, liveFieldCount ${liveFields} (${ctx})`,
      )
    }
    for (const key of keys) {
      const bytes = utf8Length(JSON.stringify(state[key]))
      check(
        bytes <= this.limits.maxFieldValueBytes,
        'field-value-quota',
        () => `${documentId}.${key} holds ${bytes} bytes (${ctx})`,
      )
    }
    const clock = this.engine.documentSnapshot(documentId)?.clock ?? {}
    for (const [node, seq] of Object.entries(clock)) {
      check(
        Number.isSafeInteger(seq) && seq >= 0,
        'document-clock',
        () => `${documentId} clock ${node}=${seq} (${ctx})`,
      )
    }
  }

  checkAllDocuments(): void {
    for (const documentId of this.engine.documentIds()) this.checkDocument(documentId)
  }

  // ------------------------------------------------------------------------------- internals

  #connection(slot: number): ConnectionId {
    const existing = this.#slots[slot]
    if (existing !== undefined && this.#open.has(existing)) return existing
    const id = `c${slot}.${++this.#generation}`
    this.#slots[slot] = id
    const anonymous = this.config.anonymous
    this.#open.set(id, {
      id,
      authed: anonymous,
      permissions: anonymous ? { ...ANONYMOUS_PERMISSIONS } : undefined,
    })
    this.#context = `open(${id})`
    this.#apply(this.engine.open(id, this.now, { ip: '192.0.2.1' }))
    return id
  }

  #receive(conn: ConnectionId, frame: Frame): void {
    this.frames++
    this.#context = `receive(${conn}, ${preview(frame, 200)})@${this.now}`
    this.#apply(this.engine.receive(conn, frame, this.now))
    checkNoPollution(() => this.#context)
  }

  /** The transport closed `conn` (after a close effect, or on the client's initiative). */
  #closed(conn: ConnectionId): void {
    if (!this.#open.delete(conn)) return
    this.#apply(this.engine.close(conn, this.now))
  }

  #resolveOne(pick: number, fail: boolean): void {
    if (this.#pending.length === 0) return
    const [item] = this.#pending.splice(pick % this.#pending.length, 1)
    if (!item) return
    let resolution: Resolution
    switch (item.kind) {
      case 'load': {
        this.#loading.delete(item.documentId)
        const stored = this.#store.get(item.documentId)
        resolution = fail
          ? { kind: 'load-failed', documentId: item.documentId, error: 'store unavailable' }
          : {
              kind: 'loaded',
              snapshot: stored
                ? new LwwDocument(item.documentId, stored).snapshot()
                : { documentId: item.documentId, registers: [], clock: {} },
            }
        break
      }
      case 'persist':
        this.#outstandingBatches.delete(item.batchId)
        if (fail) {
          resolution = { kind: 'persist-failed', batchId: item.batchId, error: 'disk full' }
        } else {
          for (const snapshot of item.documents) this.#save(snapshot)
          resolution = { kind: 'persisted', batchId: item.batchId }
        }
        break
      case 'auth':
        resolution =
          fail || item.principal === undefined
            ? { kind: 'authentication-failed', conn: item.conn, reason: 'refused' }
            : { kind: 'authenticated', conn: item.conn, principal: item.principal }
        break
    }
    this.#context = `resolve(${preview(resolution, 200)})@${this.now}`
    this.#apply(this.engine.resolve(resolution, this.now))
  }

  #save(snapshot: DocumentSnapshot): void {
    const doc = new LwwDocument(snapshot.documentId, this.#store.get(snapshot.documentId))
    for (const register of snapshot.registers) doc.applyRemote(register)
    const merged = doc.snapshot()
    for (const [node, seq] of Object.entries(snapshot.clock)) {
      if (seq > (merged.clock[node] ?? 0)) merged.clock[node] = seq
    }
    this.#store.set(snapshot.documentId, merged)
  }

  #apply(effects: Effect[]): void {
    const closes: ConnectionId[] = []
    for (const effect of effects) {
      switch (effect.kind) {
        case 'send':
          this.#checkSend(effect)
          break
        case 'close':
          closes.push(effect.conn)
          break
        case 'load':
          check(
            !this.#loading.has(effect.documentId),
            'duplicate-load',
            () => `second load of ${effect.documentId} while one is outstanding (${this.#context})`,
          )
          this.#loading.add(effect.documentId)
          this.#pending.push({ kind: 'load', documentId: effect.documentId })
          break
        case 'persist':
          this.#outstandingBatches.add(effect.batchId)
          this.#pending.push({ kind: 'persist', batchId: effect.batchId, documents: effect.documents })
          break
        case 'authenticate':
          this.#pending.push({
            kind: 'auth',
            conn: effect.conn,
            principal: principalFor(effect.credentials, this.now),
          })
          break
        case 'emit':
          if (effect.event.type === 'protocol-error' && effect.event.code === 'INTERNAL') {
            violation('internal-error', `engine caught "${effect.event.message}" during ${this.#context}`)
          }
          break
        default:
          break
      }
    }
    for (const conn of closes) this.#closed(conn)
  }

  #checkSend(effect: SendEffect): void {
    const ctx = this.#context
    const { message, to } = effect
    check(
      to.length > 0 && new Set(to).size === to.length,
      'send-recipients',
      () => `bad recipients ${preview(to)} (${ctx})`,
    )
    for (const conn of to) {
      check(this.#open.has(conn), 'send-to-closed', () => `${message.type} sent to closed ${conn} (${ctx})`)
    }
    check(
      typeof message.id === 'string' && message.timestamp === this.now,
      'envelope',
      () => `bad envelope ${preview({ id: message.id, timestamp: message.timestamp })} (${ctx})`,
    )
    const bad = nonJsonPath(message)
    if (bad !== undefined) {
      violation(
        /Infinity|NaN/.test(bad) ? 'nonfinite-number' : 'non-json-message',
        `${message.type} is not JSON at ${bad} (${ctx})`,
      )
    }
    // Comparing decoded big messages costs more than everything else together: decode only.
    let expected: string | undefined
    for (const format of ['json', 'binary'] as WireFormat[]) {
      let encoded: string | Uint8Array
      try {
        encoded = encodeServerMessage(message, format)
      } catch (error) {
        violation('encode-throws', `${message.type} (${format}): ${String(error)} (${ctx})`)
        continue
      }
      const decoded = decodeServerFrame(encoded)
      if (!decoded.ok) {
        const depth = jsonDepth(message)
        violation(
          depth > MAX_JSON_DEPTH ? 'server-frame-too-deep' : 'server-frame-undecodable',
          `${message.type} (${format}, depth ${depth}) rejected by decodeServerFrame: ${decoded.error.message} (${ctx})`,
        )
        continue
      }
      const size = typeof encoded === 'string' ? encoded.length : encoded.byteLength
      if (size > 65_536) continue
      expected ??= canonicalJson(message)
      check(
        canonicalJson(decoded.message) === expected,
        'server-frame-roundtrip',
        () =>
          `${message.type} (${format}) decodes differently: ${preview(decoded.message)} vs ${preview(message)} (${ctx})`,
      )
    }
    if (message.type === 'delta' || message.type === 'sync_response') {
      const entries = Object.entries(message.clock)
      check(
        entries.length > 0 && entries.every(([, v]) => Number.isSafeInteger(v) && v >= 0),
        'wire-clock',
        () => `${message.type} with clock ${preview(message.clock)} (${ctx})`,
      )
    }
    for (const conn of to) {
      const tracked = this.#open.get(conn)
      if (!tracked) continue
      if (message.type === 'auth_success') {
        tracked.authed = true
        tracked.permissions = message.permissions
          ? {
              canRead: [...message.permissions.canRead],
              canWrite: [...message.permissions.canWrite],
              isAdmin: message.permissions.isAdmin,
            }
          : undefined
        continue
      }
      if (!DATA_TYPES.has(message.type) && message.type !== 'ack') continue
      check(tracked.authed, 'data-before-auth', () => `${message.type} to unauthenticated ${conn} (${ctx})`)
      if (!('documentId' in message)) continue
      const documentId = message.documentId
      check(
        tracked.permissions !== undefined && mayRead(tracked.permissions, documentId),
        'data-without-permission',
        () => `${message.type} of ${documentId} to ${conn} holding ${preview(tracked.permissions)} (${ctx})`,
      )
    }
  }

  #checkIdleDocuments(): void {
    const ids = this.engine.documentIds()
    const busy = new Set<string>(this.#loading)
    for (const item of this.#pending) {
      if (item.kind === 'persist') for (const d of item.documents) busy.add(d.documentId)
    }
    let idle = 0
    for (const id of ids) {
      if (busy.has(id)) continue
      if ((this.engine.documentInfo(id)?.subscribers ?? 0) > 0) continue
      idle++
    }
    check(
      idle <= this.limits.maxIdleDocuments,
      'idle-documents',
      () => `${idle} idle documents kept after tick (max ${this.limits.maxIdleDocuments}) (${this.#context})`,
    )
  }
}

// ------------------------------------------------------------------------------------ commands

const slot = fc.nat({ max: SLOTS - 1 })

/** A run of commands: frames dominate, interleaved with time, flushes, resolutions and closes. */
export function commandsArb(
  config: DriverConfig,
  length: { minLength: number; maxLength: number },
  specs: fc.Arbitrary<MessageSpec> = messageSpec,
): fc.Arbitrary<Command[]> {
  const limits = resolveLimits(config.limits)
  const frame = anyFrame(limits.maxFrameBytes, specs)
  const advance = fc.oneof(
    { weight: 12, arbitrary: fc.constant(0) },
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 200 }) },
    { weight: 1, arbitrary: fc.constantFrom(1_000, 5_000) },
  )
  // A well-formed `auth` with a token the authenticator knows (or not): gets runs past the auth
  // gate in auth-required mode, and replaces the anonymous grant in anonymous mode.
  const login = fc
    .record({
      slot,
      token: fc.constantFrom(...TOKENS, 'tok-forged'),
      binary: fc.boolean(),
    })
    .map(({ slot, token, binary }): Command => {
      const fields = { id: `auth-${token}`, token }
      return {
        kind: 'frame',
        slot,
        frame: encodeFrame('auth', fields, START, binary ? 'binary' : 'json'),
        advanceMs: 0,
        flush: true,
      }
    })
  const command: fc.Arbitrary<Command> = fc.oneof(
    { weight: config.anonymous ? 1 : 4, arbitrary: login },
    {
      weight: 30,
      arbitrary: fc
        .record({ slot, frame, advanceMs: advance, flush: fc.boolean() })
        .map((r): Command => ({ kind: 'frame', ...r })),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({ slot, frames: chunkSet(fc.oneof(framedMessage(specs), frame)), flush: fc.boolean() })
        .map((r): Command => ({ kind: 'chunks', ...r })),
    },
    { weight: 1, arbitrary: slot.map((s): Command => ({ kind: 'open', slot: s })) },
    { weight: 2, arbitrary: slot.map((s): Command => ({ kind: 'close', slot: s })) },
    {
      weight: 3,
      arbitrary: fc
        .oneof(
          { weight: 4, arbitrary: fc.integer({ min: 0, max: 3_000 }) },
          { weight: 2, arbitrary: fc.constantFrom(10_001, 30_000, 61_000) },
          { weight: 1, arbitrary: fc.constantFrom(-1_000, -60_000) },
        )
        .map((advanceMs): Command => ({ kind: 'tick', advanceMs })),
    },
    { weight: 3, arbitrary: fc.constant<Command>({ kind: 'flush' }) },
    {
      weight: 8,
      arbitrary: fc
        .record({
          pick: fc.nat(),
          fail: fc.oneof(
            { weight: 4, arbitrary: fc.constant(false) },
            { weight: 1, arbitrary: fc.constant(true) },
          ),
        })
        .map((r): Command => ({ kind: 'resolve', ...r })),
    },
    { weight: 2, arbitrary: fc.constant<Command>({ kind: 'settle' }) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('alice', 'admin', 'anonymous')
        .map((userId): Command => ({ kind: 'revoke', userId })),
    },
  )
  return fc.array(command, length)
}

/** Frames a run of commands feeds (chunk sets count each chunk). */
export function frameCount(commands: readonly Command[]): number {
  let n = 0
  for (const c of commands) {
    if (c.kind === 'frame') n++
    else if (c.kind === 'chunks') n += c.frames.length
  }
  return n
}
