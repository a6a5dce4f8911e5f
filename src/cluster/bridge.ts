import type { Register } from '../crdt/types.js'
import type { OwnedAwarenessEntry, RevokeTarget } from '../engine/types.js'
import type { Broker } from './broker.js'
import {
  type ClusterMessage,
  decodeClusterMessage,
  encodeClusterMessage,
  type RevokeMessage,
} from './messages.js'
import { CONTROL_TOPIC, documentTopic, nodeTopic } from './topics.js'

/** What the bridge hands to the engine (`engine.resolve(resolution, now)`). */
export type RemoteResolution =
  | { kind: 'remote-registers'; documentId: string; registers: Register[] }
  | { kind: 'remote-awareness'; documentId: string; entry: OwnedAwarenessEntry }

/** What the bridge needs from the runtime and the broker. */
export interface ClusterBridgeOptions {
  broker: Broker
  /** Feed a remote update to the engine, then run the effects it returns. */
  resolve(resolution: RemoteResolution): void
  /** Present clients of a document held here (answers another node's awareness query). */
  awarenessEntries?(documentId: string): OwnedAwarenessEntry[]
  /** All registers of a document held here, or undefined (answers resync requests). */
  documentRegisters?(documentId: string): Register[] | undefined
  /** A revocation announced by another node: apply it to this node's connections. */
  revoke?(target: RevokeTarget): void
  /** Another node deleted the document: drop it from memory here. */
  deleted?(documentId: string): void
  /** Publish failures, undecodable messages. Default: ignored (the broker reports connectivity). */
  onError?(error: unknown): void
}

/**
 * The cluster protocol between the engine's effects and a `Broker`, so the runtime does not have
 * to know topics or message shapes. Runtime wiring:
 *
 * - `subscribe-topic`: `await bridge.subscribeDocument(id)` BEFORE running the `load` effect
 *   (it never rejects: while the broker is down the node serves locally and resyncs later), then
 *   `bridge.requestAwareness(id)`.
 * - `unsubscribe-topic`: `bridge.unsubscribeDocument(id)`.
 * - `publish` / `publish-awareness`: `bridge.publishRegisters` / `bridge.publishAwareness`
 *   (fire and forget; failures are remembered and repaired on reconnect).
 * - revocations made on this node: `bridge.publishRevoke(target)`.
 *
 * Awareness: presence stays in each engine (where expiry already lives) and travels as messages.
 * A node that starts holding a document asks the others for their present clients; a dead node's
 * clients expire everywhere because nobody refreshes them. No Redis keys to expire or clean up,
 * and the same logic runs over every broker.
 */
const MAX_PENDING_REVOCATIONS = 1000
/** How long `queryPresence` collects the holders' answers (they answer only when they have clients). */
const PRESENCE_QUERY_MS = 250
/** Presence queries collecting at once; beyond, a query answers with what this node holds only. */
const MAX_PRESENCE_QUERIES = 100

/** Turns engine effects into broker topics and broker messages into engine resolutions. */
export class ClusterBridge {
  readonly #broker: Broker
  readonly #options: ClusterBridgeOptions
  readonly #documents = new Set<string>()
  /** Documents with a failed publish: their registers are republished once the broker is back. */
  readonly #unpublished = new Set<string>()
  readonly #pendingRevocations: RevokeMessage[] = []
  /** Open presence queries: document id -> collectors of the snapshots answered. */
  readonly #presenceQueries = new Map<string, Set<(entries: OwnedAwarenessEntry[]) => void>>()
  #openQueries = 0
  #stopReconnect: (() => void) | undefined

  constructor(options: ClusterBridgeOptions) {
    this.#broker = options.broker
    this.#options = options
  }

  get nodeId(): string {
    return this.#broker.nodeId
  }

  /** Subscribes to this node's reply topic and the control topic. Resolves even when the broker is down. */
  async start(): Promise<void> {
    this.#stopReconnect ??= this.#broker.onReconnect(() => this.#resync())
    const receive = (raw: string) => this.#receive(raw)
    await Promise.all([
      this.#broker.subscribe(nodeTopic(this.nodeId), receive).catch((error) => this.#report(error)),
      this.#broker.subscribe(CONTROL_TOPIC, receive).catch((error) => this.#report(error)),
    ])
  }

  /** Live subscription before the document loads, so no update falls between load and subscribe. */
  async subscribeDocument(documentId: string): Promise<void> {
    this.#documents.add(documentId)
    await this.#broker
      .subscribe(documentTopic(documentId), (raw) => this.#receive(raw))
      .catch((error) => this.#report(error))
  }

  /** Leaves a document's topic. */
  async unsubscribeDocument(documentId: string): Promise<void> {
    this.#documents.delete(documentId)
    this.#unpublished.delete(documentId)
    await this.#broker.unsubscribe(documentTopic(documentId)).catch((error) => this.#report(error))
  }

  /** Asks the holders of the document for their present clients (answers arrive as resolutions). */
  requestAwareness(documentId: string): Promise<boolean> {
    return this.#send(documentTopic(documentId), {
      type: 'awareness-query',
      documentId,
      replyTo: this.nodeId,
    })
  }

  /**
   * The present clients of a document held by other nodes, for a node that does not hold it: asks
   * the holders (the `awareness-query` a new subscriber sends) and collects their answers for
   * `waitMs`. Never rejects; without a broker answer it resolves empty.
   */
  async queryPresence(documentId: string, waitMs = PRESENCE_QUERY_MS): Promise<OwnedAwarenessEntry[]> {
    if (this.#openQueries >= MAX_PRESENCE_QUERIES) return []
    const entries: OwnedAwarenessEntry[] = []
    const collect = (answered: OwnedAwarenessEntry[]): void => void entries.push(...answered)
    let collectors = this.#presenceQueries.get(documentId)
    if (!collectors) {
      collectors = new Set()
      this.#presenceQueries.set(documentId, collectors)
    }
    collectors.add(collect)
    this.#openQueries++
    try {
      if (await this.requestAwareness(documentId)) await new Promise((resolve) => setTimeout(resolve, waitMs))
    } finally {
      this.#openQueries--
      collectors.delete(collect)
      if (collectors.size === 0) this.#presenceQueries.delete(documentId)
    }
    return entries
  }

  /** Tells the holders of a document that it was deleted. */
  publishDelete(documentId: string): Promise<boolean> {
    return this.#send(documentTopic(documentId), { type: 'document-deleted', documentId })
  }

  /** Publishes registers this node applied. */
  async publishRegisters(documentId: string, registers: Register[]): Promise<boolean> {
    if (registers.length === 0) return true
    const sent = await this.#send(documentTopic(documentId), { type: 'registers', documentId, registers })
    if (!sent) {
      this.#unpublished.add(documentId)
    } else if (this.#unpublished.size > 0) {
      // The broker works again without a reconnect (e.g. a publish had timed out): repair now.
      this.#republishUnpublished()
    }
    return sent
  }

  /** Publishes a presence update. */
  publishAwareness(documentId: string, entry: OwnedAwarenessEntry): Promise<boolean> {
    return this.#send(documentTopic(documentId), { type: 'awareness', documentId, entry })
  }

  /** A revocation that cannot be published now is retried after reconnect (bounded). */
  async publishRevoke(target: RevokeTarget): Promise<boolean> {
    const message: RevokeMessage = { type: 'revoke' }
    if (target.userId !== undefined) message.userId = target.userId
    if (target.documentId !== undefined) message.documentId = target.documentId
    const sent = await this.#send(CONTROL_TOPIC, message)
    if (!sent && this.#pendingRevocations.length < MAX_PENDING_REVOCATIONS) {
      this.#pendingRevocations.push(message)
    }
    return sent
  }

  /** Stops listening; leaves the broker itself open (the runtime owns it). */
  async close(): Promise<void> {
    this.#stopReconnect?.()
    this.#stopReconnect = undefined
    const topics = [nodeTopic(this.nodeId), CONTROL_TOPIC, ...[...this.#documents].map(documentTopic)]
    this.#documents.clear()
    this.#unpublished.clear()
    await Promise.all(topics.map((topic) => this.#broker.unsubscribe(topic).catch(() => {})))
  }

  /**
   * After an outage: push the registers of every document held here, and ask the other holders
   * for theirs and their presence (they missed ours, we missed theirs; LWW makes repeats
   * harmless). The push is not limited to what failed to publish: a broker restores nodes one by
   * one, so a publish that succeeded (or a resync request) may have reached a node that was not
   * subscribed yet. Of any two nodes, the one restoring later is heard by the other, and its push
   * plus its request carry both directions.
   */
  #resync(): void {
    for (const message of this.#pendingRevocations.splice(0)) void this.publishRevoke(message)
    this.#unpublished.clear()
    for (const documentId of this.#documents) {
      const registers = this.#options.documentRegisters?.(documentId)
      if (registers && registers.length > 0) void this.publishRegisters(documentId, registers)
      void this.#send(documentTopic(documentId), { type: 'resync-request', documentId, replyTo: this.nodeId })
      void this.requestAwareness(documentId)
    }
  }

  #republishUnpublished(): void {
    const documentIds = [...this.#unpublished]
    this.#unpublished.clear()
    for (const documentId of documentIds) {
      const registers = this.#options.documentRegisters?.(documentId)
      if (registers && registers.length > 0) void this.publishRegisters(documentId, registers)
    }
  }

  #receive(raw: string): void {
    const message = decodeClusterMessage(raw)
    if (!message) {
      this.#report(new Error('Undecodable cluster message dropped'))
      return
    }
    switch (message.type) {
      case 'registers':
        this.#options.resolve({
          kind: 'remote-registers',
          documentId: message.documentId,
          registers: message.registers,
        })
        return
      case 'awareness':
        this.#options.resolve({
          kind: 'remote-awareness',
          documentId: message.documentId,
          entry: message.entry,
        })
        return
      case 'awareness-snapshot':
        for (const collect of this.#presenceQueries.get(message.documentId) ?? []) collect(message.entries)
        for (const entry of message.entries) {
          this.#options.resolve({ kind: 'remote-awareness', documentId: message.documentId, entry })
        }
        return
      case 'awareness-query': {
        const entries = this.#options.awarenessEntries?.(message.documentId) ?? []
        if (entries.length === 0) return
        void this.#send(nodeTopic(message.replyTo), {
          type: 'awareness-snapshot',
          documentId: message.documentId,
          entries,
        })
        return
      }
      case 'resync-request': {
        const registers = this.#options.documentRegisters?.(message.documentId)
        if (!registers || registers.length === 0) return
        void this.#send(nodeTopic(message.replyTo), {
          type: 'registers',
          documentId: message.documentId,
          registers,
        })
        return
      }
      case 'document-deleted':
        this.#options.deleted?.(message.documentId)
        return
      case 'revoke': {
        const target: RevokeTarget = {}
        if (message.userId !== undefined) target.userId = message.userId
        if (message.documentId !== undefined) target.documentId = message.documentId
        this.#options.revoke?.(target)
        return
      }
    }
  }

  /** Never rejects: the runtime keeps serving locally whatever the broker does. */
  async #send(topic: string, message: ClusterMessage): Promise<boolean> {
    try {
      await this.#broker.publish(topic, encodeClusterMessage(message))
      return true
    } catch (error) {
      this.#report(error)
      return false
    }
  }

  #report(error: unknown): void {
    this.#options.onError?.(error)
  }
}
