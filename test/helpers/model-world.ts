/**
 * A deterministic simulated deployment for model-based tests: one or more engines (each driven by
 * an `EngineHarness` with manual settling, all sharing one store map as nodes share a database),
 * simulated clients of every dialect with their own in-flight frame queues, and a broker that
 * carries each node's `publish` effects to the other nodes in any order, possibly duplicated.
 *
 * Cluster model: a node's persist is committed to the shared store when it is settled (so another
 * node's load may not see it yet); the broker delivers a publish to the nodes subscribed to the
 * document's topic at that moment (the engine subscribes before it loads).
 *
 * Network model: client -> server frames of one socket travel in a FIFO queue (`client.outbox`)
 * that tests may duplicate or reorder; server -> client messages wait in the harness inbox until
 * the client reads them; a disconnect first delivers what the client already sent (the socket
 * closes after its last frame), then drops whatever the client had not read yet.
 *
 * Two references are kept:
 * - `arrivalOrder`: every write applied in the order the engines received it (on one node the
 *   server is authoritative by arrival order, whatever its wall clock does);
 * - `registers`: every register any node created (from `publish` effects) plus the initial ones;
 *   the LWW-by-stamp winner per field is what a cluster must converge to.
 */
import type { DocumentSnapshot, Register, Stamp } from '../../src/crdt/types.js'
import { encodeFrame } from '../../src/protocol/index.js'
import type { JsonValue } from '../../src/protocol/types.js'
import { EngineHarness } from './engine-harness.js'
import {
  type ClientModel,
  type ConnectOptions,
  createClient,
  type Dialect,
  LegacyClient,
  type RefWrite,
  type SetOp,
} from './model-clients.js'

export const DOCUMENT_ID = 'doc-1'
/** Another document, used only to push `DOCUMENT_ID` out of memory (idle eviction). */
const OTHER_DOCUMENT_ID = 'doc-other'
export const START_MS = 1_000_000

export interface WorldOptions {
  nodeIds: readonly string[]
  /** Per node: start wall clock offset from START_MS (clock skew between nodes). */
  skewMs?: readonly number[]
  /** One client per entry, connected round-robin to the nodes. */
  dialects: readonly Dialect[]
  resendFieldsOnSubscribe: boolean
  /** Registers already in the store when the run starts (written by an older node). */
  initial?: readonly Register[]
  /** Steer around known limits (see each switch: which are open, which were bugs since fixed). */
  workarounds?: Workarounds
}

/**
 * Switches that steer a run around a known problem. Two are limits that stay (the properties turn
 * them on); the other three steered around engine bugs that are fixed, and stay off in every
 * property, which is how a property shows the fix holds.
 */
export interface Workarounds {
  /**
   * A limit of SDK 0.3, not of the engine: without `resendFieldsOnSubscribe`, a `subscribe`
   * conveys no tombstones (`sync_response.state` lists live fields and SDK 0.3 never removes
   * fields that are missing from it), so an SDK client offline during a delete by another dialect
   * keeps the deleted value (the SDK itself never deletes); with the option on, tombstones are
   * re-sent as `delta`s. Workaround: with the option off, `observe` ignores an SDK client's
   * fields the reference lacks.
   */
  sdkMayKeepDeletedFields?: boolean
  /**
   * Fixed (D25, docs/protocol.md §11): a write that reached the engine before the connection's
   * `subscribe`/`sync_request` auto-subscribed it without a sync; the echoes then carried the
   * whole document clock, so the SDK's merged clock claimed fields it never received, and a later
   * `sync_request {vectorClock}` missed them. Workaround: an SDK 0.3 client's handshake is never
   * overtaken by a write.
   */
  handshakeFirst?: boolean
  /**
   * Open in a cluster, the known limit of docs/protocol.md §6.7 (an `it.fails` test in
   * engine-regressions, "an SDK client that moves to another node"): a node lifts its own clock
   * entry when it applies another node's register and echoes that clock; the other nodes never
   * learn of the lift, so an SDK client that moves to one of them can hold a value at the same
   * (max(clock), 'server') as that node's echo of a newer write, and keeps the old one (D5, docs/protocol.md §6.4).
   * Workaround: SDK models adopt a server value on an exact tie.
   */
  sdkAdoptsServerTies?: boolean
  /**
   * Fixed (D5, docs/protocol.md §6.4): an SDK client whose write was applied on one node and
   * which then read from another node could hold its own counter above every clock that node
   * sent for the field; the losing remote register that arrived later was not re-echoed, so the
   * client kept its value. Workaround: SDK clients always reconnect to the node they started on.
   */
  sdkStickyNodes?: boolean
  /**
   * Fixed (docs/protocol.md §6.7): the engine emitted `publish` with `persist`, before the
   * commit, so a node that subscribed and loaded in between read the store without the register
   * and never received it. Workaround: a persist is committed as soon as the effect is emitted.
   */
  commitAtPersistEffect?: boolean
}

export interface BrokerMessage {
  from: number
  to: number
  documentId: string
  registers: Register[]
}

function syncRequest(documentId: string): Uint8Array {
  const frame = encodeFrame('sync_request', { id: `probe-${documentId}`, documentId }, 0, 'binary')
  if (typeof frame === 'string') throw new Error('binary frame expected')
  return frame
}

export function compareStamps(a: Stamp, b: Stamp): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1
  if (a.node !== b.node) return a.node < b.node ? -1 : 1
  return 0
}

/** field -> value of the register with the greatest stamp per field (tombstones hide the field). */
export function stampWinners(registers: Iterable<Register>): Map<string, JsonValue> {
  const best = new Map<string, Register>()
  for (const register of registers) {
    const current = best.get(register.field)
    if (!current || compareStamps(register.stamp, current.stamp) > 0) best.set(register.field, register)
  }
  const state = new Map<string, JsonValue>()
  for (const [field, register] of best) if (!register.deleted) state.set(field, register.value)
  return state
}

export class World {
  readonly store = new Map<string, DocumentSnapshot>()
  readonly nodes: EngineHarness[]
  readonly clients: ClientModel[]
  readonly arrivalOrder = new Map<string, JsonValue>()
  readonly registers: Register[] = []
  readonly broker: BrokerMessage[] = []
  readonly #published: number[]
  readonly #workarounds: Workarounds
  readonly #resendFieldsOnSubscribe: boolean
  #connections = 0

  constructor(options: WorldOptions) {
    this.#workarounds = options.workarounds ?? {}
    const initial = options.initial ?? []
    if (initial.length > 0) {
      const clock: Record<string, number> = {}
      for (const r of initial) clock[r.dot.node] = Math.max(clock[r.dot.node] ?? 0, r.dot.seq)
      this.store.set(DOCUMENT_ID, {
        documentId: DOCUMENT_ID,
        registers: structuredClone([...initial]),
        clock,
      })
      this.registers.push(...initial)
      for (const [field, value] of stampWinners(initial)) this.arrivalOrder.set(field, value)
    }
    this.#resendFieldsOnSubscribe = options.resendFieldsOnSubscribe
    this.nodes = options.nodeIds.map((nodeId, k) =>
      this.#createNode(nodeId, START_MS + (options.skewMs?.[k] ?? 0)),
    )
    this.#published = this.nodes.map(() => 0)
    const clientOptions = { adoptServerTies: this.#workarounds.sdkAdoptsServerTies === true }
    this.clients = options.dialects.map((dialect, i) =>
      createClient(dialect, `client-${i + 1}`, DOCUMENT_ID, clientOptions),
    )
    this.clients.forEach((client, i) => {
      this.reconnect(client, i % this.nodes.length)
    })
  }

  node(client: ClientModel): EngineHarness {
    const node = this.nodes[client.node]
    if (!node) throw new Error(`no node ${client.node}`)
    return node
  }

  // ------------------------------------------------------------------------------ client actions

  set(client: ClientModel, ops: readonly SetOp[]): void {
    client.now = this.node(client).now
    client.set(ops)
  }

  delete(client: ClientModel, field: string): void {
    if (!(client instanceof LegacyClient)) throw new Error('only the legacy dialect deletes')
    client.now = this.node(client).now
    client.delete(field)
  }

  /** The engine receives the next `count` frames the client sent (no end of turn). */
  deliver(client: ClientModel, count: number): void {
    const { conn } = client
    if (conn === undefined) return
    for (let i = 0; i < count; i++) {
      const frame = client.outbox.shift()
      if (!frame) break
      this.node(client).receive(conn, frame.bytes)
      for (const write of frame.writes) this.#arrived(write)
    }
    this.#collect()
  }

  /** The network duplicates the client's next frame. */
  duplicate(client: ClientModel): void {
    const head = client.outbox[0]
    if (head) client.outbox.unshift(head)
  }

  canReorder(client: ClientModel): boolean {
    const [first, second] = client.outbox
    if (!first || !second) return false
    const handshakeOvertaken = first.handshake && second.writes.length > 0 && client.dialect === 'sdk'
    return !(handshakeOvertaken && this.#workarounds.handshakeFirst)
  }

  /** The network holds the client's next frame back until after the one behind it. */
  reorder(client: ClientModel): void {
    const [first, second] = client.outbox
    if (first && second) client.outbox.splice(0, 2, second, first)
  }

  /** The client reads everything the server sent it so far. */
  read(client: ClientModel): void {
    if (client.conn === undefined) return
    client.now = this.node(client).now
    for (const message of this.node(client).take(client.conn)) client.receive(message)
  }

  unread(client: ClientModel): number {
    return client.conn === undefined ? 0 : this.node(client).messages(client.conn).length
  }

  disconnect(client: ClientModel): void {
    const { conn } = client
    if (conn === undefined) return
    this.deliver(client, Number.POSITIVE_INFINITY)
    this.node(client).disconnect(conn)
    for (const message of this.node(client).take(conn)) client.inspect(message)
    client.disconnect()
    this.#collect()
  }

  canReconnect(client: ClientModel, node: number): boolean {
    if (client.connected || node >= this.nodes.length) return false
    return !this.#workarounds.sdkStickyNodes || client.dialect === 'legacy' || node === client.node
  }

  reconnect(client: ClientModel, node: number, options: ConnectOptions = {}): void {
    if (client.connected) return
    const conn = `${client.id}#${++this.#connections}`
    const harness = this.nodes[node]
    if (!harness) throw new Error(`no node ${node}`)
    harness.open(conn)
    client.now = harness.now
    client.connect(conn, node, options)
  }

  // -------------------------------------------------------------------------------- node actions

  flush(node: number): void {
    this.nodes[node]?.flush()
    this.#collect()
  }

  settle(node: number): void {
    this.nodes[node]?.settle()
    this.#collect()
  }

  /** Wall clock jump (backwards too), optionally followed by the engine's periodic tick. */
  time(node: number, deltaMs: number, tick: boolean): void {
    const harness = this.nodes[node]
    if (!harness) return
    harness.now += deltaMs
    if (tick) harness.tick(0)
    this.#collect()
  }

  /**
   * Another document is used on the node, then the periodic tick runs: with one idle document
   * allowed, `DOCUMENT_ID` leaves memory if nobody is subscribed to it on that node.
   */
  evict(node: number): void {
    const harness = this.nodes[node]
    if (!harness) return
    const conn = `other#${++this.#connections}`
    harness.open(conn)
    harness.receive(conn, syncRequest(OTHER_DOCUMENT_ID))
    harness.settle()
    harness.take(conn)
    harness.disconnect(conn)
    harness.tick(0)
    this.#collect()
  }

  /** The store refuses the node's oldest outstanding persist (the engine must retry it). */
  failPersist(node: number): void {
    this.nodes[node]?.failPersist()
    this.#collect()
  }

  /**
   * Graceful restart: the node's clients are disconnected (what they sent is delivered first),
   * its work is flushed and committed, then a new engine with the same id and store takes over.
   * Its hybrid logical clock starts from scratch, with a wall clock that may be behind stamps.
   */
  restart(node: number): void {
    const old = this.nodes[node]
    if (!old) return
    for (const client of this.clients) if (client.connected && client.node === node) this.disconnect(client)
    old.flush()
    old.settle()
    this.#collect()
    this.nodes[node] = this.#createNode(old.engine.nodeId, old.now)
    this.#published[node] = 0
  }

  /** The broker hands message `index` (modulo the queue length) to its node. */
  brokerDeliver(index: number): void {
    if (this.broker.length === 0) return
    const [message] = this.broker.splice(index % this.broker.length, 1)
    const harness = message && this.nodes[message.to]
    if (!message || !harness) return
    const { documentId, registers } = message
    harness.apply(harness.engine.resolve({ kind: 'remote-registers', documentId, registers }, harness.now))
    this.#collect()
  }

  brokerDuplicate(index: number): void {
    const message = this.broker[index % Math.max(1, this.broker.length)]
    if (message) this.broker.push({ ...message, registers: structuredClone(message.registers) })
  }

  // ---------------------------------------------------------------------------------- quiescence

  /**
   * Runs the system to rest: every client online (offline ones reconnect to their last node),
   * every frame delivered, every turn flushed, every effect settled, every broker message
   * delivered, every message read; repeated until nothing moves.
   */
  quiesce(): void {
    for (let round = 0; round < 100; round++) {
      let moved = false
      for (const client of this.clients) this.reconnect(client, client.node)
      for (const client of this.clients) {
        if (client.outbox.length > 0) moved = true
        this.deliver(client, Number.POSITIVE_INFINITY)
      }
      this.#runNodes()
      while (this.broker.length > 0) {
        moved = true
        this.brokerDeliver(0)
      }
      this.#runNodes()
      for (const client of this.clients) {
        if (this.unread(client) > 0) moved = true
        this.read(client)
      }
      if (!moved && this.nodes.every((node) => node.idle)) return
    }
    throw new Error('the simulation did not quiesce in 100 rounds')
  }

  /**
   * What a fresh legacy client reading the document from `node` would get: loads the document if
   * the node evicted it. Returns the `sync_response.state` (`documentState` must agree with it).
   */
  probe(node: number): Record<string, unknown> {
    const harness = this.nodes[node]
    if (!harness) throw new Error(`no node ${node}`)
    const conn = `probe#${++this.#connections}`
    harness.open(conn)
    harness.receive(conn, syncRequest(DOCUMENT_ID))
    harness.settle()
    harness.flush()
    const response = harness.take(conn).find((m) => m.type === 'sync_response')
    harness.disconnect(conn)
    harness.flush()
    if (response?.type !== 'sync_response') throw new Error(`node ${node}: no sync_response to a probe`)
    return response.state
  }

  storeState(): Map<string, JsonValue> {
    return stampWinners(this.store.get(DOCUMENT_ID)?.registers ?? [])
  }

  /** The client's visible state, as compared with `reference` (see `Workarounds`). */
  observe(client: ClientModel, reference: Map<string, JsonValue>): Map<string, JsonValue> {
    const state = client.visibleState()
    const deletesReachSdk = this.#resendFieldsOnSubscribe
    if (this.#workarounds.sdkMayKeepDeletedFields && !deletesReachSdk && client.dialect !== 'legacy') {
      for (const field of state.keys()) if (!reference.has(field)) state.delete(field)
    }
    return state
  }

  violations(): string[] {
    return this.clients.flatMap((client) => client.violations)
  }

  #createNode(nodeId: string, now: number): EngineHarness {
    return new EngineHarness({
      nodeId,
      autoSettle: false,
      store: this.store,
      now,
      // A persist is committed (visible to other nodes' loads) only when it is settled.
      commitOnSettle: this.#workarounds.commitAtPersistEffect !== true,
      resendFieldsOnSubscribe: this.#resendFieldsOnSubscribe,
      // No rate limiting in a simulation; keep at most one idle document so eviction happens.
      limits: { maxMessagesPerMinute: 1e9, maxIdleDocuments: 1 },
    })
  }

  #runNodes(): void {
    for (const node of this.nodes) {
      node.flush()
      node.settle()
      node.flush()
    }
    this.#collect()
  }

  #arrived(write: RefWrite): void {
    if (write.deleted) this.arrivalOrder.delete(write.field)
    else this.arrivalOrder.set(write.field, write.value)
  }

  /** Every new `publish` effect becomes one broker message per other node subscribed to the topic. */
  #collect(): void {
    this.nodes.forEach((node, from) => {
      for (const effect of node.published.slice(this.#published[from])) {
        this.registers.push(...structuredClone(effect.registers))
        this.nodes.forEach((other, to) => {
          if (to === from || !other.topics.has(effect.documentId)) return
          const registers = structuredClone(effect.registers)
          this.broker.push({ from, to, documentId: effect.documentId, registers })
        })
      }
      this.#published[from] = node.published.length
    })
  }
}
