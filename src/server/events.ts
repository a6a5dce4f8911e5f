import type { EventEmitter } from 'eventemitter3'
import type { Register } from '../crdt/types.js'
import type { EngineEvent, Principal } from '../engine/types.js'
import type { ErrorCode, JsonObject } from '../protocol/types.js'

export interface ConnectionEvent {
  connectionId: string
  ip: string | undefined
}
export interface DisconnectEvent extends ConnectionEvent {
  /** Set when the server closed the socket (limit, auth failure, slow client, shutdown...). */
  code?: number
  reason?: string
}
export interface ConnectionRejectedEvent {
  ip: string | undefined
  code: number
  reason: string
}
export interface AuthenticatedEvent {
  connectionId: string
  principal: Principal
}
export interface SubscriptionEvent {
  connectionId: string
  documentId: string
}
export interface DocumentChangeEvent {
  documentId: string
  registers: Register[]
  /** `local`: written through this node; `remote`: applied from another node. */
  origin: 'local' | 'remote'
}
export interface DocumentLoadedEvent {
  documentId: string
  fields: number
}
export interface DocumentEvictedEvent {
  documentId: string
}
export interface AwarenessChangeEvent {
  documentId: string
  clientId: string
  state: JsonObject | null
}
export interface ProtocolErrorEvent {
  /** Empty for errors not tied to a connection (an engine bug caught at its boundary). */
  connectionId: string
  code: ErrorCode
  message: string
  documentId?: string
}
/** Where a runtime error happened. */
export interface ErrorContext {
  operation:
    | 'authenticate'
    | 'load'
    | 'persist'
    | 'store-close'
    | 'broker'
    | 'broker-close'
    | 'listener'
    | 'engine'
    | 'resolve'
  connectionId?: string
  documentId?: string
}

/** The typed event map of `SyncServer` (eventemitter3). */
export interface SyncServerEvents {
  connection: (event: ConnectionEvent) => void
  'connection-rejected': (event: ConnectionRejectedEvent) => void
  disconnect: (event: DisconnectEvent) => void
  authenticated: (event: AuthenticatedEvent) => void
  subscribed: (event: SubscriptionEvent) => void
  unsubscribed: (event: SubscriptionEvent) => void
  'document-change': (event: DocumentChangeEvent) => void
  'document-loaded': (event: DocumentLoadedEvent) => void
  'document-evicted': (event: DocumentEvictedEvent) => void
  'awareness-change': (event: AwarenessChangeEvent) => void
  'protocol-error': (event: ProtocolErrorEvent) => void
  error: (error: Error, context: ErrorContext) => void
}

export type ServerEventName = keyof SyncServerEvents

/** Engine observability events as the public events they become. */
export type PublicEngineEvent =
  | { name: 'protocol-error'; payload: ProtocolErrorEvent }
  | { name: 'authenticated'; payload: AuthenticatedEvent }
  | { name: 'document-change'; payload: DocumentChangeEvent }
  | { name: 'document-loaded'; payload: DocumentLoadedEvent }
  | { name: 'document-evicted'; payload: DocumentEvictedEvent }
  | { name: 'subscribed' | 'unsubscribed'; payload: SubscriptionEvent }
  | { name: 'awareness-change'; payload: AwarenessChangeEvent }

export function toPublicEvent(event: EngineEvent): PublicEngineEvent {
  switch (event.type) {
    case 'protocol-error': {
      const payload: ProtocolErrorEvent = {
        connectionId: event.conn,
        code: event.code,
        message: event.message,
      }
      if (event.documentId !== undefined) payload.documentId = event.documentId
      return { name: 'protocol-error', payload }
    }
    case 'authenticated':
      return { name: 'authenticated', payload: { connectionId: event.conn, principal: event.principal } }
    case 'subscribed':
    case 'unsubscribed':
      return { name: event.type, payload: { connectionId: event.conn, documentId: event.documentId } }
    case 'document-change': {
      const { documentId, registers, origin } = event
      return { name: 'document-change', payload: { documentId, registers, origin } }
    }
    case 'document-loaded':
      return { name: 'document-loaded', payload: { documentId: event.documentId, fields: event.fields } }
    case 'document-evicted':
      return { name: 'document-evicted', payload: { documentId: event.documentId } }
    case 'awareness-change': {
      const { documentId, clientId, state } = event
      return { name: 'awareness-change', payload: { documentId, clientId, state } }
    }
  }
}

export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value))
}

/** A throwing listener must not break the effect loop; it is reported as an `error` event. */
export function safeEmit<E extends keyof SyncServerEvents>(
  emitter: EventEmitter<SyncServerEvents>,
  event: E,
  ...args: Parameters<SyncServerEvents[E]>
): void {
  try {
    ;(emitter.emit as (name: E, ...rest: Parameters<SyncServerEvents[E]>) => boolean).call(
      emitter,
      event,
      ...args,
    )
  } catch (error) {
    if (event === 'error') return
    try {
      emitter.emit('error', toError(error), { operation: 'listener' })
    } catch {
      // An `error` listener that throws has nowhere left to report to.
    }
  }
}
