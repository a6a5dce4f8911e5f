/**
 * An honest world plus one hostile connection, driving the pure engine through EngineHarness,
 * with the security rules of docs/security.md checked after every step (`SecurityWorld.check`).
 *
 * The world: alice and bob (may do anything) are connected for the whole run, subscribed to the
 * four documents below, present in each (`alice-p`, `bob-p`; they may leave and come back) and
 * keeping a text state in each (`alice-t`, `bob-t`); carol is present in each from another node
 * (`carol-p`, owner `user:carol`); late joiners (alice's other tabs) subscribe and go. Every
 * honest value, presence state and text state is `<user>:<doc>:<n>`.
 *
 * The hostile principal (the user `mallory`, or an anonymous connection) may, by a custom policy:
 * - `open`: read and write, except the field `locked` and relayed `richtext` ops;
 * - `read`: read only;
 * - `drop`: write only, except the field `secret` and `text-state` ops;
 * - `secret` and anything else: nothing.
 * It sends anything (hostile-frames.ts); a closed hostile connection is replaced at its next send.
 * The same user on another node reaches this one as presence entries owned by `user:mallory`
 * (that node did not know the id was taken: two nodes racing).
 */

import type { AuthorizePolicy, EngineLimits, Principal } from '../../src/engine/types.js'
import { decodeClientFrame, MAX_CLIENT_ID_LENGTH, utf8Length } from '../../src/protocol/index.js'
import type { JsonObject, ServerMessage } from '../../src/protocol/types.js'
import { EngineHarness } from './engine-harness.js'
import {
  framesOf,
  type HostileSend,
  PROTECTED_CLIENT_IDS,
  WORLD_DOCS,
  type WorldDoc,
} from './hostile-frames.js'

/** Small limits, so a run of a few dozen steps reaches every one of them. */
export const SECURITY_LIMITS: EngineLimits = {
  maxFrameBytes: 16_384,
  maxMessagesPerMinute: 60,
  maxMessagesPerMinutePerUser: 10_000,
  maxPingsPerMinute: 3,
  maxInvalidFrames: 4,
  maxPreAuthFrames: 8,
  maxPreAuthBytes: 4_096,
  authTimeoutMs: 10_000,
  maxParkedPerDocument: 100,
  maxDocumentsPerConnection: 5,
  maxFieldsPerDocument: 32,
  maxFieldValueBytes: 1_024,
  maxDocumentBytes: 1_536,
  maxAwarenessStateBytes: 256,
  awarenessTimeoutMs: 30_000,
  maxAwarenessClientsPerDocument: 32,
  maxAwarenessClientsPerConnection: 3,
  maxAwarenessClockStep: 1_000,
  maxAwarenessLeftBytes: 160,
  maxTextStatesPerDocument: 6,
  maxTextStateBytes: 768,
  maxIdleDocuments: 8,
  maxChunksPerSet: 4,
  maxChunkSetBytes: 4_096,
  maxChunkSetsPerConnection: 2,
  chunkSetTimeoutMs: 30_000,
}
const L = SECURITY_LIMITS

const HONEST = ['alice', 'bob'] as const
type Honest = (typeof HONEST)[number]
const UNREADABLE = new Set(['drop', 'secret', 'elsewhere'])
const READ_ONLY_OR_HIDDEN = new Set<WorldDoc>(['read', 'secret'])
/** The field the policy refuses the hostile, per document it may write. */
const REFUSED_FIELD: Partial<Record<WorldDoc, string>> = { open: 'locked', drop: 'secret' }
/** The op the policy refuses the hostile, per document it may write. */
const REFUSED_OP: Partial<Record<WorldDoc, string>> = { open: 'richtext', drop: 'text-state' }
const PROTECTED = new Set<string>(PROTECTED_CLIENT_IDS)
const PRESENT_IDS = ['alice-p', 'bob-p', 'carol-p']
const WINDOW_MS = 60_000

export const securityPolicy: AuthorizePolicy = ({ principal, action, documentId, field, op }) => {
  if ((HONEST as readonly string[]).includes(principal.userId)) return true
  switch (documentId) {
    case 'open':
      return field !== REFUSED_FIELD.open && op !== REFUSED_OP.open
    case 'read':
      return action === 'read'
    case 'drop':
      return action === 'write' && field !== REFUSED_FIELD.drop && op !== REFUSED_OP.drop
    default:
      return false
  }
}

const principal = (userId: string): Principal => ({
  userId,
  permissions: { canRead: [], canWrite: [], isAdmin: false },
  via: 'token',
})

export type Step =
  | { kind: 'hostile'; send: HostileSend; advanceMs: number }
  | { kind: 'write'; user: Honest; doc: WorldDoc; field: string; remove: boolean; advanceMs: number }
  | { kind: 'presence'; user: Honest; doc: WorldDoc; advanceMs: number }
  | { kind: 'leave'; user: Honest; doc: WorldDoc; advanceMs: number }
  | { kind: 'late-join'; user: Honest; doc: WorldDoc; advanceMs: number }
  | {
      kind: 'remote-hostile'
      doc: WorldDoc
      clientId: string
      state: JsonObject | null
      firstClock: number
      clockStep: number
      advanceMs: number
    }
  | { kind: 'squat-free'; clock: number; advanceMs: number }
  | { kind: 'text'; user: Honest; doc: WorldDoc; advanceMs: number }
  | { kind: 'remote-presence'; doc: WorldDoc; advanceMs: number }
  | { kind: 'time'; advanceMs: number }

export class SecurityViolation extends Error {}

interface HonestClient {
  readonly user: Honest
  readonly conn: string
  readonly replicas: Map<WorldDoc, Map<string, unknown>>
  readonly acked: Set<string>
  seq: number
  presenceClock: number
  /** Documents where its presence id is its own (announced and not left). */
  readonly present: Set<WorldDoc>
  /** Set while an announce of an id someone else holds is expected to be refused. */
  expectDenied: boolean
}

interface RateWindow {
  pongs: number[]
  handled: number[]
  invalid: number[]
}

const key = (doc: string, clientId: string) => `${doc}/${clientId}`
const isTombstone = (v: unknown) =>
  typeof v === 'object' && v !== null && (v as Record<string, unknown>).__deleted === true

export class SecurityWorld {
  readonly h: EngineHarness
  readonly honest: HonestClient[]
  /** State of each document from the honest writes the engine acked, in order. */
  readonly reference = new Map<WorldDoc, Map<string, unknown>>()
  /** Latest presence state of each honest and remote client id, per document. */
  readonly presence = new Map<string, JsonObject>()
  /** Latest text state each honest client kept, per document. */
  readonly texts = new Map<string, string>()
  /** Last presence clock each watcher saw per client id (reset by a leave). */
  readonly #clocks = new Map<string, number>()
  hostile = ''
  #hostiles = 0
  #rates: RateWindow = { pongs: [], handled: [], invalid: [] }
  #carolClock = 0
  readonly #remoteClocks = new Map<string, number>()
  #probes = 0
  #effectsSeen = 0
  readonly log: string[] = []

  constructor(readonly anonymousHostile: boolean) {
    this.h = new EngineHarness({
      anonymous: anonymousHostile,
      authenticate: (token) => (token === 'bogus' || token === undefined ? null : principal(token)),
      authorize: securityPolicy,
      limits: L,
    })
    this.honest = HONEST.map((user) => ({
      user,
      conn: `h-${user}`,
      replicas: new Map(WORLD_DOCS.map((doc) => [doc, new Map()])),
      acked: new Set(),
      seq: 0,
      presenceClock: 0,
      present: new Set(),
      expectDenied: false,
    }))
    for (const doc of WORLD_DOCS) this.reference.set(doc, new Map())
    for (const client of this.honest) {
      this.h.open(client.conn)
      this.h.send(client.conn, 'auth', { token: client.user })
      for (const doc of WORLD_DOCS) this.h.send(client.conn, 'subscribe', { documentId: doc })
    }
    for (const doc of WORLD_DOCS) this.#remotePresence(doc)
    for (const client of this.honest) {
      for (const doc of WORLD_DOCS) {
        this.#announce(client, doc)
        this.#keepText(client, doc)
      }
    }
    this.#drainHonest()
    this.#openHostile()
    this.check()
  }

  run(step: Step): void {
    this.log.push(JSON.stringify(step).slice(0, 300))
    this.h.now += step.advanceMs
    switch (step.kind) {
      case 'hostile':
        this.#hostileSends(step.send)
        break
      case 'write':
        this.#write(this.#client(step.user), step.doc, step.field, step.remove)
        break
      case 'presence': {
        // A client that left a document comes back there first (the case the leave rules are about).
        const client = this.#client(step.user)
        this.#announce(client, WORLD_DOCS.find((doc) => !client.present.has(doc)) ?? step.doc)
        break
      }
      case 'leave':
        this.#leave(this.#client(step.user), step.doc)
        break
      case 'late-join':
        this.#lateJoin(step.user, step.doc)
        break
      case 'remote-hostile':
        this.#remoteHostile(step.doc, step.clientId, step.state, step.firstClock, step.clockStep)
        break
      case 'squat-free':
        this.#squatFree(step.clock)
        break
      case 'text':
        this.#keepText(this.#client(step.user), step.doc)
        break
      case 'remote-presence':
        this.#remotePresence(step.doc)
        break
      case 'time':
        // Honest clients (and the remote one) refresh their presence before it could expire.
        for (const doc of WORLD_DOCS) this.#remotePresence(doc)
        for (const client of this.honest) for (const doc of client.present) this.#announce(client, doc)
        this.h.tick(0)
        break
    }
    this.#drainHonest()
    this.#drainHostile()
    this.check()
  }

  // ------------------------------------------------------------------ honest and remote actions

  #client(user: Honest): HonestClient {
    const client = this.honest.find((c) => c.user === user)
    if (!client) throw new Error(`no client ${user}`)
    return client
  }

  #write(client: HonestClient, doc: WorldDoc, field: string, remove: boolean): void {
    const messageId = `${client.user}-w${++client.seq}`
    const value = remove ? { __deleted: true } : `${client.user}:${doc}:${client.seq}`
    this.h.send(client.conn, 'delta', { documentId: doc, field, value, messageId })
    this.#drainHonest()
    if (!client.acked.has(messageId)) return
    const reference = this.reference.get(doc)
    if (remove) reference?.delete(field)
    else reference?.set(field, value)
  }

  /**
   * An update of its presence id, or, after a leave, its return. The id was free when it left:
   * if someone holds it now (the engine says who is present), the return is refused and the id
   * stays theirs; if nobody does, the return must be accepted, whatever clock the id was used
   * with in between.
   */
  #announce(client: HonestClient, doc: WorldDoc): void {
    const clientId = `${client.user}-p`
    const state = { name: `${client.user}:${doc}:${++client.seq}` }
    const returning = !client.present.has(doc)
    const taken = returning && this.h.engine.awarenessEntries(doc).some((e) => e.clientId === clientId)
    if (!taken) {
      this.presence.set(key(doc, clientId), state)
      client.present.add(doc)
    }
    client.expectDenied = taken
    this.h.send(client.conn, 'awareness_update', {
      documentId: doc,
      clientId,
      state,
      clock: ++client.presenceClock,
    })
    this.#drainHonest()
    client.expectDenied = false
  }

  #leave(client: HonestClient, doc: WorldDoc): void {
    if (!client.present.delete(doc)) return
    const clientId = `${client.user}-p`
    this.presence.delete(key(doc, clientId))
    this.h.send(client.conn, 'awareness_update', {
      documentId: doc,
      clientId,
      state: null,
      clock: ++client.presenceClock,
    })
  }

  /** Another tab of the same user opens the document and closes: it gets the whole of it. */
  #lateJoin(user: Honest, doc: WorldDoc): void {
    const conn = `probe-${++this.#probes}`
    this.h.open(conn)
    this.h.send(conn, 'auth', { token: user })
    this.h.send(conn, 'subscribe', { documentId: doc })
    const got = this.h.take(conn)
    this.h.close(conn)
    const response = got.find((m) => m.type === 'sync_response')
    const engine = JSON.stringify(sorted(Object.entries(this.h.engine.documentState(doc) ?? {})))
    if (
      response?.type !== 'sync_response' ||
      JSON.stringify(sorted(Object.entries(response.state))) !== engine
    ) {
      this.#fail(
        `a late joiner of ${doc} got ${JSON.stringify(response)?.slice(0, 200)}, the engine has ${engine}`,
      )
    }
    for (const m of got) {
      if (m.type === 'error') this.#fail(`a late joiner of ${doc} got ${m.error}`)
      if (m.type === 'delta_batch')
        for (const op of m.deltas) this.#checkRelayedOp(`${conn} got delta_batch`, doc, op)
    }
  }

  #keepText(client: HonestClient, doc: WorldDoc): void {
    const messageId = `${client.user}-t${++client.seq}`
    const state = `${client.user}:${doc}:${client.seq}`
    this.h.send(client.conn, 'delta_batch', {
      documentId: doc,
      messageId,
      deltas: [{ type: 'text-state', state, clientId: `${client.user}-t` }],
    })
    this.#drainHonest()
    if (client.acked.has(messageId)) this.texts.set(key(doc, `${client.user}-t`), state)
  }

  /** carol, on another node, refreshes her presence: it arrives as a cluster resolution. */
  #remotePresence(doc: WorldDoc): void {
    const state = { name: `carol:${doc}:${++this.#carolClock}` }
    this.presence.set(key(doc, 'carol-p'), state)
    this.h.resolve({
      kind: 'remote-awareness',
      documentId: doc,
      entry: { clientId: 'carol-p', state, clock: this.#carolClock, owner: 'user:carol' },
    })
  }

  /**
   * The hostile watches presence: as soon as an honest id is free (its owner left), it takes it
   * with a huge clock and leaves at once. The leave is remembered, and must not keep the owner out.
   */
  #squatFree(clock: number): void {
    for (const doc of ['open', 'read'] as const) {
      const owner = this.honest.find((c) => !c.present.has(doc))
      if (!owner) continue
      const clientId = `${owner.user}-p`
      this.#hostileSends({
        kind: 'sequence',
        messages: [
          {
            type: 'awareness_update',
            fields: { documentId: doc, clientId, state: { h: 1, squat: true }, clock },
          },
          { type: 'awareness_update', fields: { documentId: doc, clientId, state: null, clock } },
        ],
        format: 'binary',
        times: 1,
      })
      return
    }
  }

  /** mallory, on another node that had not seen who holds the id, announces it there. */
  #remoteHostile(
    doc: WorldDoc,
    clientId: string,
    state: JsonObject | null,
    firstClock: number,
    clockStep: number,
  ): void {
    const last = this.#remoteClocks.get(key(doc, clientId))
    const clock = last === undefined ? firstClock : last + clockStep
    this.#remoteClocks.set(key(doc, clientId), clock)
    this.h.resolve({
      kind: 'remote-awareness',
      documentId: doc,
      entry: { clientId, state, clock, owner: 'user:mallory' },
    })
  }

  #drainHonest(): void {
    for (const client of this.honest) {
      for (const message of this.h.take(client.conn)) this.#honestReceives(client, message)
    }
  }

  #honestReceives(client: HonestClient, m: ServerMessage): void {
    const who = `${client.user} got ${m.type}`
    switch (m.type) {
      case 'sync_response': {
        const replica = client.replicas.get(m.documentId as WorldDoc)
        if (!replica) return
        replica.clear()
        for (const [field, value] of Object.entries(m.state)) replica.set(field, value)
        return
      }
      case 'delta': {
        const replica = client.replicas.get(m.documentId as WorldDoc)
        if (isTombstone(m.value)) replica?.delete(m.field)
        else replica?.set(m.field, m.value)
        return
      }
      case 'delta_batch':
        for (const op of m.deltas) this.#checkRelayedOp(who, m.documentId, op)
        return
      case 'awareness_update':
        this.#checkPresence(client.conn, who, m.documentId, m.clientId, m.state, m.clock)
        return
      case 'awareness_state':
        for (const e of m.states)
          this.#checkPresence(client.conn, who, m.documentId, e.clientId, e.state, e.clock)
        return
      case 'ack':
        client.acked.add(m.messageId)
        return
      case 'error': {
        // Quotas the hostile may fill legitimately (a document it may write), and a return to an
        // id someone took while it was free; nothing else.
        const code = m.details?.code
        if (code === 'LIMIT_EXCEEDED' || (code === 'PERMISSION_DENIED' && client.expectDenied)) return
        this.#fail(`${who}: ${m.error} ${JSON.stringify(m.details)}`)
        return
      }
      default:
        return
    }
  }

  /** Client ids the hostile may not use: the server's, the honest ones held, carol's. */
  #protected(clientId: string, documentId: string): boolean {
    if (!PROTECTED.has(clientId)) return false
    const owner = this.honest.find((c) => `${c.user}-p` === clientId)
    return owner === undefined || owner.present.has(documentId as WorldDoc)
  }

  /** A relayed op names the frame's document, a client id its sender owns, and a permitted kind. */
  #checkRelayedOp(who: string, documentId: string, op: JsonObject): void {
    if (op.documentId !== undefined && op.documentId !== documentId) {
      this.#fail(`${who}: relayed op for ${String(op.documentId)} in ${documentId}`)
    }
    if (op.h !== 1) return
    const clientId = op.clientId
    if (typeof clientId === 'string' && this.#protected(clientId, documentId)) {
      this.#fail(`${who}: hostile op relayed as ${clientId} in ${documentId}`)
    }
    if (READ_ONLY_OR_HIDDEN.has(documentId as WorldDoc))
      this.#fail(`${who}: hostile op relayed in ${documentId}`)
    if (op.type === REFUSED_OP[documentId as WorldDoc])
      this.#fail(`${who}: refused ${String(op.type)} relayed`)
  }

  /** Presence of a protected id is its owner's; no clock jumps further than the limit. */
  #checkPresence(
    watcher: string,
    who: string,
    documentId: string,
    clientId: string,
    state: JsonObject | null,
    clock: number,
  ): void {
    const clockKey = `${watcher}|${key(documentId, clientId)}`
    if (state === null) this.#clocks.delete(clockKey)
    else {
      const last = this.#clocks.get(clockKey)
      if (last !== undefined && clock - last > L.maxAwarenessClockStep) {
        this.#fail(`${who}: ${clientId} clock jumped ${last} -> ${clock} in ${documentId}`)
      }
      this.#clocks.set(clockKey, clock)
    }
    if (!PRESENT_IDS.includes(clientId)) return
    const expected = this.presence.get(key(documentId, clientId))
    if (expected === undefined) return
    if (JSON.stringify(state) !== JSON.stringify(expected)) {
      this.#fail(
        `${who}: ${clientId} in ${documentId} is ${JSON.stringify(state)}, its owner set ${JSON.stringify(expected)}`,
      )
    }
  }

  // ------------------------------------------------------------------ the hostile connection

  #openHostile(): void {
    this.hostile = `m${++this.#hostiles}`
    this.#rates = { pongs: [], handled: [], invalid: [] }
    this.h.open(this.hostile)
    if (!this.anonymousHostile) this.h.send(this.hostile, 'auth', { token: 'mallory' })
    this.#drainHostile()
  }

  #hostileSends(send: HostileSend): void {
    if (this.h.closed.has(this.hostile)) this.#openHostile()
    for (const frame of framesOf(send, this.h.now)) {
      if (this.h.closed.has(this.hostile)) break
      this.h.sendRaw(this.hostile, frame)
      this.#classify(frame, this.#drainHostile())
    }
  }

  /** What the engine did with one hostile frame, for the rate rules and the ack rule. */
  #classify(frame: string | Uint8Array, replies: ServerMessage[]): void {
    const now = this.h.now
    const decoded = decodeClientFrame(frame, { maxFrameBytes: L.maxFrameBytes })
    if (!decoded.ok) {
      if (replies.some((m) => m.type === 'error')) this.#rates.invalid.push(now)
      return
    }
    const message = decoded.message
    if (message.type === 'ping') {
      for (const m of replies) if (m.type === 'pong') this.#rates.pongs.push(now)
      return
    }
    if (message.type === 'ack' || message.type === 'pong') return
    const limited = replies.some((m) => m.type === 'error' && m.details?.code === 'RATE_LIMIT_EXCEEDED')
    if (!limited) this.#rates.handled.push(now)
    if (message.type !== 'delta' && message.type !== 'delta_batch') return
    const refused = REFUSED_FIELD[message.documentId as WorldDoc]
    const fields =
      message.type === 'delta'
        ? message.writes.map((w) => w.field)
        : message.ops.map((op) => (op.kind === 'field' ? op.field : undefined))
    const onlyRefused = refused !== undefined && fields.every((field) => field === refused)
    const messageId = message.messageId ?? message.id
    if (onlyRefused && replies.some((m) => m.type === 'ack' && m.messageId === messageId)) {
      this.#fail(`hostile got an ack for ${messageId}, whose every field was refused`)
    }
  }

  /** Everything sent to the hostile: nothing of a document it may not read. */
  #drainHostile(): ServerMessage[] {
    const messages = this.h.take(this.hostile)
    for (const m of messages) {
      const documentId = 'documentId' in m ? m.documentId : undefined
      const carriesDocument = m.type !== 'error' && m.type !== 'ack'
      if (carriesDocument && documentId !== undefined && UNREADABLE.has(documentId)) {
        this.#fail(`hostile got ${m.type} of ${documentId}`)
      }
      const text = JSON.stringify(m)
      if (text.includes(':drop:') || text.includes(':secret:'))
        this.#fail(`hostile got an unreadable value: ${text.slice(0, 200)}`)
    }
    return messages
  }

  // ------------------------------------------------------------------ invariants

  check(): void {
    this.#checkConvergence()
    this.#checkDocuments()
    this.#checkHostileBudgets()
    this.#checkRates()
    this.#checkReplies()
  }

  /** Honest replicas equal the engine; what the hostile may not write equals the honest reference. */
  #checkConvergence(): void {
    for (const doc of WORLD_DOCS) {
      const engine = this.h.engine.documentState(doc) ?? {}
      const engineText = JSON.stringify(sorted(Object.entries(engine)))
      for (const client of this.honest) {
        const replica = JSON.stringify(sorted([...(client.replicas.get(doc) ?? new Map())]))
        if (replica !== engineText) this.#fail(`${client.user}'s ${doc} ${replica} != engine ${engineText}`)
      }
      const reference = this.reference.get(doc) ?? new Map()
      if (READ_ONLY_OR_HIDDEN.has(doc)) {
        const expected = JSON.stringify(sorted([...reference]))
        if (expected !== engineText)
          this.#fail(`${doc} changed: ${engineText}, honest writes give ${expected}`)
      }
      const refused = REFUSED_FIELD[doc]
      if (
        refused !== undefined &&
        JSON.stringify(engine[refused]) !== JSON.stringify(reference.get(refused))
      ) {
        this.#fail(
          `${doc}.${refused} is ${JSON.stringify(engine[refused])}, honest writes give ${JSON.stringify(reference.get(refused))}`,
        )
      }
      // Held by their owner (the others are free, and whoever takes them owns them).
      for (const clientId of PRESENT_IDS) {
        const expected = this.presence.get(key(doc, clientId))
        if (expected === undefined) continue
        const entry = this.h.engine.awarenessEntries(doc).find((e) => e.clientId === clientId)
        if (JSON.stringify(entry?.state) !== JSON.stringify(expected)) {
          this.#fail(
            `presence ${clientId} in ${doc} is ${JSON.stringify(entry?.state)}, its owner set ${JSON.stringify(expected)}`,
          )
        }
      }
    }
  }

  /** Kept text states and quotas: per op, per document, honest ones untouched. */
  #checkDocuments(): void {
    for (const doc of this.h.engine.documentIds()) {
      let held = 0
      for (const r of this.h.engine.documentSnapshot(doc)?.registers ?? []) {
        held += utf8Length(r.field) + (r.deleted ? 0 : utf8Length(JSON.stringify(r.value)))
      }
      const kept = new Set<string>()
      for (const op of this.h.engine.textStates(doc)) {
        const bytes = utf8Length(JSON.stringify(op))
        held += bytes
        if (bytes > L.maxTextStateBytes) this.#fail(`kept text state of ${bytes} bytes in ${doc}`)
        if (op.documentId !== undefined && op.documentId !== doc) {
          this.#fail(`kept text state in ${doc} names ${String(op.documentId)}`)
        }
        const clientId = String(op.clientId)
        if (op.h === 1 && (this.#protected(clientId, doc) || READ_ONLY_OR_HIDDEN.has(doc as WorldDoc))) {
          this.#fail(`hostile text state kept as ${clientId} in ${doc}`)
        }
        if (op.h === 1 && REFUSED_OP[doc as WorldDoc] === 'text-state')
          this.#fail(`refused text state kept in ${doc}`)
        const expected = this.texts.get(key(doc, clientId))
        if (expected !== undefined) kept.add(clientId)
        if (expected !== undefined && op.state !== expected)
          this.#fail(`${clientId}'s text in ${doc} is ${String(op.state)}`)
      }
      // Three owners (alice, bob, the hostile) fit under the cap: nobody pushes the honest states out.
      for (const client of this.honest) {
        const clientId = `${client.user}-t`
        if (this.texts.has(key(doc, clientId)) && !kept.has(clientId)) {
          this.#fail(`${clientId}'s text state in ${doc} was pushed out`)
        }
      }
      if (held > L.maxDocumentBytes) this.#fail(`${doc} holds ${held} bytes (max ${L.maxDocumentBytes})`)
      const usage = this.h.engine.documentUsage(doc)
      if ((usage?.rememberedLeaveBytes ?? 0) > L.maxAwarenessLeftBytes) {
        this.#fail(`${doc} remembers ${usage?.rememberedLeaveBytes} bytes of leaves`)
      }
      for (const e of this.h.engine.awarenessEntries(doc)) {
        if (e.clientId.length > MAX_CLIENT_ID_LENGTH)
          this.#fail(`${doc} keeps a ${e.clientId.length}-character client id`)
      }
    }
  }

  /** What the engine holds for the hostile connection stays within the limits. */
  #checkHostileBudgets(): void {
    const u = this.h.engine.connectionUsage(this.hostile)
    if (!u) return
    const over = (what: string, value: number, max: number) => {
      if (value > max) this.#fail(`hostile ${what}: ${value} > ${max}`)
    }
    over('pre-auth frames', u.preAuthFrames, L.maxPreAuthFrames)
    over('pre-auth bytes', u.preAuthBytes, L.maxPreAuthBytes)
    over('chunk sets', u.chunkSets, L.maxChunkSetsPerConnection)
    over('chunk bytes', u.chunkBytes, L.maxChunkSetsPerConnection * L.maxChunkSetBytes)
    over('subscriptions', u.subscriptions, L.maxDocumentsPerConnection)
    over('presence rooms', u.awarenessRooms, L.maxDocumentsPerConnection)
    over('presence ids', u.presenceClients, L.maxAwarenessClientsPerConnection * u.awarenessRooms)
    over(
      'presence bytes',
      u.presenceBytes,
      u.presenceClients * (MAX_CLIENT_ID_LENGTH + L.maxAwarenessStateBytes),
    )
    over('text state bytes', u.textStateBytes, u.textStates * L.maxTextStateBytes)
  }

  /** In any minute, the hostile connection gets at most what its buckets hold (burst plus refill). */
  #checkRates(): void {
    const since = this.h.now - WINDOW_MS
    const recent = (times: number[]) => times.filter((t) => t > since).length
    const over = (what: string, count: number, perMinute: number) => {
      if (count > 2 * perMinute + 1)
        this.#fail(`hostile had ${count} ${what} within a minute (max ${perMinute}/min)`)
    }
    over('pings answered', recent(this.#rates.pongs), L.maxPingsPerMinute)
    over('frames handled', recent(this.#rates.handled), L.maxMessagesPerMinute)
    over('invalid frames answered', recent(this.#rates.invalid), L.maxInvalidFrames)
  }

  /** Replies for a late joiner's text states come in frames of bounded size. */
  #checkReplies(): void {
    const effects = this.h.effects
    for (let i = this.#effectsSeen; i < effects.length; i++) {
      const effect = effects[i]
      if (effect?.kind !== 'send' || !effect.reply || effect.message.type !== 'delta_batch') continue
      const bytes = utf8Length(JSON.stringify(effect.message.deltas))
      if (bytes > L.maxTextStateBytes + 2) this.#fail(`a reply frame carries ${bytes} bytes of text states`)
    }
    this.#effectsSeen = effects.length
  }

  #fail(message: string): never {
    throw new SecurityViolation(`${message}\n  after: ${this.log.slice(-6).join('\n         ')}`)
  }
}

function sorted(entries: [string, unknown][]): [string, unknown][] {
  return entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}
