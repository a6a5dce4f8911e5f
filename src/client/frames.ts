import type { JsonObject, JsonValue, VectorClock } from '../protocol/types.js'
import type { ClientDialect } from './types.js'

/** An outgoing message before encoding: the type and the payload fields. */
export interface OutFrame {
  type: string
  fields: Record<string, unknown>
}

/** A queued write, kept verbatim so a resend after reconnect is the same frame. */
export interface WriteSpec {
  messageId: string
  documentId: string
  /** field -> wire value (the tombstone marker for deletes). */
  fields: Map<string, JsonValue>
  /** Per-field op clocks (sdk dialect). */
  clocks: VectorClock[]
  timestamp: number
}

/**
 * Frame shapes per dialect (docs/protocol.md §10.1, §10.3). `sdk` follows the SyncKit SDK (no `id`,
 * writes as `delta_batch` set ops); `legacy` the SyncKit test client (`id` everywhere, `delta` maps).
 */
export class FrameBuilder {
  constructor(
    private readonly dialect: ClientDialect,
    private readonly clientId: string,
    private readonly newId: () => string,
  ) {}

  auth(token: string | undefined, apiKey: string | undefined): OutFrame {
    return this.frame('auth', { token, apiKey })
  }

  /** First subscription: sdk `subscribe`; legacy `sync_request {id}` (its only way to subscribe). */
  subscribe(documentId: string, requestId: string): OutFrame {
    if (this.dialect === 'legacy') return { type: 'sync_request', fields: { id: requestId, documentId } }
    return { type: 'subscribe', fields: { documentId } }
  }

  /** After a reconnect: sdk resyncs by vector clock; legacy asks for the whole state again. */
  resync(documentId: string, requestId: string, vectorClock: VectorClock): OutFrame {
    if (this.dialect === 'legacy') return this.subscribe(documentId, requestId)
    return { type: 'sync_request', fields: { documentId, vectorClock: { ...vectorClock } } }
  }

  write(spec: WriteSpec): OutFrame {
    const { messageId, documentId } = spec
    if (this.dialect === 'legacy') {
      const delta: JsonObject = Object.fromEntries(spec.fields)
      return { type: 'delta', fields: { id: messageId, documentId, delta, vectorClock: {} } }
    }
    const deltas = [...spec.fields].map(([field, value], i) => ({
      type: 'set',
      field,
      value,
      clock: spec.clocks[i] ?? {},
      clientId: this.clientId,
      timestamp: spec.timestamp,
    }))
    return { type: 'delta_batch', fields: { documentId, deltas, messageId } }
  }

  awarenessSubscribe(documentId: string): OutFrame {
    return { type: 'awareness_subscribe', fields: { documentId } }
  }

  awarenessUpdate(documentId: string, state: JsonObject | null, clock: number): OutFrame {
    return { type: 'awareness_update', fields: { documentId, clientId: this.clientId, state, clock } }
  }

  ping(): OutFrame {
    return this.frame('ping', {})
  }

  pong(): OutFrame {
    return this.frame('pong', {})
  }

  /** Legacy only: the test client acks every received delta that has an id. */
  ack(messageId: string): OutFrame {
    return this.frame('ack', { messageId })
  }

  /** Legacy frames carry an `id`; SDK frames never do. */
  private frame(type: string, fields: Record<string, unknown>): OutFrame {
    return { type, fields: this.dialect === 'legacy' ? { id: this.newId(), ...fields } : fields }
  }
}
