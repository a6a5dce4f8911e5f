import type { SyncEngine } from '../engine/index.js'
import type {
  AuthenticateEffect,
  DeleteEffect,
  Effect,
  EngineEvent,
  LoadEffect,
  PersistEffect,
  PublishAwarenessEffect,
  PublishEffect,
  Resolution,
  RevokeTarget,
  SendEffect,
  ServerReplyEffect,
} from '../engine/types.js'
import { encodeServerMessage, utf8Length } from '../protocol/index.js'
import type { ServerMessage, WireFormat } from '../protocol/types.js'
import type { ServerConnection } from './connection.js'
import type { ServerMetrics } from './server-metrics.js'
import { SLOW_CLIENT_CODE, SLOW_CLIENT_REASON } from './transport.js'

export { SLOW_CLIENT_CODE, SLOW_CLIENT_REASON }

/**
 * The cluster seam: a Broker (through `ClusterBridge`) plugs in here. On a single node there is
 * nobody to tell, so every call is a no-op; the engine behaves the same either way.
 */
export interface ClusterLink {
  publish(effect: PublishEffect): void
  publishAwareness(effect: PublishAwarenessEffect): void
  /** May return a promise: the document's `load` then waits for it (subscribe before loading). */
  subscribe(documentId: string): Promise<void> | void
  unsubscribe(documentId: string): void
  /** A revocation made on this node, for the other nodes to apply. */
  publishRevoke?(target: RevokeTarget): void
  /** A document deleted on this node, for the other nodes to drop from memory. */
  publishDelete?(documentId: string): void
}

export const SINGLE_NODE: ClusterLink = Object.freeze({
  publish() {},
  publishAwareness() {},
  subscribe() {},
  unsubscribe() {},
})

/** What the interpreter needs from the runtime. */
export interface EffectHost {
  readonly engine: SyncEngine
  readonly metrics: ServerMetrics
  readonly cluster: ClusterLink
  connection(id: string): ServerConnection | undefined
  /**
   * Closes the socket at once; the engine hears of it only after the batch being performed, so
   * the effects the close has never land between this batch's (effects stay in order).
   */
  closeConnection(connection: ServerConnection, code: number, reason: string): void
  /** Starts an async effect; its resolution is fed back to the engine when it settles. */
  track(task: Promise<Resolution>): void
  authenticate(effect: AuthenticateEffect): Promise<Resolution>
  load(effect: LoadEffect): Promise<Resolution>
  persist(effect: PersistEffect): Promise<Resolution>
  delete(effect: DeleteEffect): Promise<Resolution>
  /** The answer to a request of `sync.documents`. */
  reply(effect: ServerReplyEffect): void
  emit(event: EngineEvent): void
  /** A bug surfaced (e.g. a message with no encoding); reported, never thrown into the I/O loop. */
  fail(error: unknown): void
}

/** Performs effects in the order the engine produced them. */
export function interpretEffects(host: EffectHost, effects: readonly Effect[]): void {
  // The engine asks for a topic and then the load of the same document in one batch.
  let topics: Map<string, Promise<void>> | undefined
  for (const effect of effects) {
    switch (effect.kind) {
      case 'send':
        deliver(host, effect)
        break
      case 'close': {
        const connection = host.connection(effect.conn)
        if (connection && !connection.closed) host.closeConnection(connection, effect.code, effect.reason)
        break
      }
      case 'authenticate':
        host.track(host.authenticate(effect))
        break
      case 'load': {
        const subscribed = topics?.get(effect.documentId)
        const load = () => host.load(effect)
        host.track(subscribed ? subscribed.then(load, load) : load())
        break
      }
      case 'persist':
        host.track(host.persist(effect))
        break
      case 'publish':
        host.cluster.publish(effect)
        break
      case 'publish-awareness':
        host.cluster.publishAwareness(effect)
        break
      case 'subscribe-topic': {
        const subscribed = host.cluster.subscribe(effect.documentId)
        if (subscribed) {
          topics ??= new Map()
          topics.set(effect.documentId, subscribed)
        }
        break
      }
      case 'unsubscribe-topic':
        host.cluster.unsubscribe(effect.documentId)
        break
      case 'emit':
        host.emit(effect.event)
        break
      case 'server-reply':
        host.reply(effect)
        break
      case 'delete':
        host.track(host.delete(effect))
        break
      case 'publish-delete':
        host.cluster.publishDelete?.(effect.documentId)
        break
    }
  }
}

interface Encoded {
  data: string | Uint8Array
  bytes: number
}

/**
 * One message to many sockets: encoded at most once per wire format, and the very same string or
 * buffer handed to every socket of that format.
 */
function deliver(host: EffectHost, effect: SendEffect): void {
  const { message } = effect
  const encoded: Partial<Record<WireFormat, Encoded>> = {}
  const coalesceKey = message.type === 'delta' ? `${message.documentId}\u0000${message.field}` : undefined
  const { metrics } = host
  let recipients = 0
  for (const id of effect.to) {
    const connection = host.connection(id)
    if (!connection || connection.closed) continue
    const format = host.engine.wireFormat(id)
    let frame = encoded[format]
    if (!frame) {
      frame = encode(host, message, format)
      if (!frame) return
      encoded[format] = frame
    }
    recipients++
    const outcome = connection.outbound.send(frame.data, frame.bytes, coalesceKey, effect.reply === true)
    if (outcome === 'sent') metrics.bytesOut.inc(frame.bytes)
    else if (outcome === 'coalesced') metrics.coalesced.inc()
    else if (outcome === 'overflow') {
      metrics.slowClosed.inc()
      host.closeConnection(connection, SLOW_CLIENT_CODE, SLOW_CLIENT_REASON)
    }
  }
  if (recipients === 0) return
  metrics.messagesOut.inc(recipients, message.type)
  metrics.fanout.observe(recipients)
}

function encode(host: EffectHost, message: ServerMessage, format: WireFormat): Encoded | undefined {
  try {
    const data = encodeServerMessage(message, format)
    return { data, bytes: typeof data === 'string' ? utf8Length(data) : data.byteLength }
  } catch (error) {
    host.fail(error)
    return undefined
  }
}
