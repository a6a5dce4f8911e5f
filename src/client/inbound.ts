import type { DeltaOut, JsonObject, ServerMessage, SyncResponseOut } from '../protocol/types.js'
import type { AwarenessDoc } from './awareness.js'
import type { FrameBuilder, OutFrame } from './frames.js'
import { isTombstone } from './json.js'
import type { PingTracker } from './pings.js'
import type { Replica } from './replica.js'
import type { Subscriptions } from './subscriptions.js'
import {
  type AwarenessEvent,
  type ChangeOrigin,
  type ClientDialect,
  type DeltaEvent,
  SyncServerError,
} from './types.js'
import type { Writes } from './writes.js'

/** What inbound handling needs of the client: its parts, and its connection-level reactions. */
export interface InboundHost {
  readonly dialect: ClientDialect
  readonly frames: FrameBuilder
  readonly writes: Writes
  readonly subs: Subscriptions
  readonly pings: PingTracker
  authenticating(): boolean
  becomeReady(): void
  authFailed(error: SyncServerError): void
  /** The document's replica if there is one (an answer for an unknown document changes nothing). */
  replica(documentId: string): Replica | undefined
  presence(documentId: string): AwarenessDoc | undefined
  send(frame: OutFrame): void
  emitDelta(event: DeltaEvent): void
  emitAwareness(event: AwarenessEvent): void
  emitChange(documentId: string, fields: string[], origin: ChangeOrigin): void
  emitError(error: Error): void
}

/** Applies one decoded server message to the client's replicas, requests and presence. */
export function handleServerMessage(host: InboundHost, message: ServerMessage): void {
  switch (message.type) {
    case 'auth_success':
      if (host.authenticating()) host.becomeReady()
      return
    case 'auth_error':
      return host.authFailed(new SyncServerError(message.error, 'AUTH_FAILED', message.details))
    case 'sync_response':
      return onSyncResponse(host, message)
    case 'delta':
      return onDelta(host, message)
    case 'ack':
      return host.writes.settle(message.messageId)
    case 'ping':
      host.send(host.frames.pong())
      return
    case 'pong':
      return host.pings.pong()
    case 'awareness_state':
      for (const entry of message.states) onAwareness(host, { ...entry, documentId: message.documentId })
      return
    case 'awareness_update':
      return onAwareness(host, message)
    case 'error':
      return onServerError(host, message.error, message.details)
    default:
      // delta_batch relays (text, counter, set ops) and sync_step2 reach apps via 'message'.
      return
  }
}

function onSyncResponse(host: InboundHost, message: SyncResponseOut): void {
  const replica = host.replica(message.documentId)
  if (replica) {
    const changed = replica.applySync(message.state, message.clock, message.deltas)
    host.emitChange(message.documentId, changed, 'sync')
  }
  host.subs.settle(message)
}

function onDelta(host: InboundHost, message: DeltaOut): void {
  if (host.dialect === 'legacy' && message.id !== '') host.send(host.frames.ack(message.id))
  const replica = host.replica(message.documentId)
  if (!replica) return
  const { changed, matched } = replica.applyEcho(message.field, message.value, message.clock)
  const deleted = isTombstone(message.value)
  host.emitDelta({
    documentId: message.documentId,
    field: message.field,
    value: deleted ? undefined : message.value,
    deleted,
    clock: message.clock,
  })
  if (changed) host.emitChange(message.documentId, [message.field], 'remote')
  // The legacy test client counts the echo of its own value as confirmation (docs/protocol.md §10.3).
  if (host.dialect !== 'legacy') return
  for (const messageId of matched) if (host.writes.isSent(messageId)) host.writes.settle(messageId)
}

function onAwareness(host: InboundHost, entry: AwarenessEvent): void {
  const doc = host.presence(entry.documentId)
  if (!doc?.apply(entry)) return
  host.emitAwareness(entry)
}

function onServerError(host: InboundHost, text: string, details: JsonObject | undefined): void {
  const code = typeof details?.code === 'string' ? details.code : undefined
  const error = new SyncServerError(text, code, details)
  if (host.authenticating() && code?.startsWith('AUTH')) return host.authFailed(error)
  host.emitError(error)
  const messageId = details?.messageId
  if (typeof messageId === 'string') return host.writes.settle(messageId, error)
  // A document-level refusal without a field or message names the subscribe in flight, if any.
  const documentId = details?.documentId
  if (typeof documentId !== 'string' || details?.field !== undefined) return
  host.subs.refuse(documentId, error)
}
