import type { Register } from '../crdt/types.js'
import type { DocumentChangeEngineEvent, EngineEvent, Principal } from '../engine/types.js'
import type { ErrorCode, JsonObject, JsonValue } from '../protocol/types.js'

/** Fields every connection-scoped event carries. */
export interface ConnectionScope<Context = unknown> {
  connectionId: string
  /** The app context of the connection (`auth.authenticate`, `handleConnection`), if any. */
  context?: Context
}
/** `connection`: a connection was admitted and opened. */
export interface ConnectionEvent<Context = unknown> extends ConnectionScope<Context> {
  ip: string | undefined
  /** Set when the door or the host established who the connection is. */
  userId?: string
}
/** `disconnect`: a connection closed, either side. */
export interface DisconnectEvent<Context = unknown> extends ConnectionEvent<Context> {
  /** Set when the server closed the socket (limit, auth failure, slow client, shutdown...). */
  code?: number
  reason?: string
}
/** `connection-rejected`: refused at the upgrade (`status`) or at accept (`code`). */
export interface ConnectionRejectedEvent {
  ip: string | undefined
  /** The WebSocket close code, when the socket was refused after the handshake. */
  code?: number
  /** The HTTP status, when `sync.upgrade` refused the request before the handshake. */
  status?: number
  reason: string
}
/** `authenticated`: a connection has a principal (at open, or after an `auth` message). */
export interface AuthenticatedEvent<Context = unknown> extends ConnectionScope<Context> {
  principal: Principal
}
/** `subscribed` / `unsubscribed`: a connection started or stopped following a document. */
export interface SubscriptionEvent<Context = unknown> extends ConnectionScope<Context> {
  documentId: string
}
/** Who made a change. */
export type DocumentChangeActor =
  /** A client connection, as its user. */
  | { kind: 'connection'; connectionId: string; userId: string }
  /**
   * This server: an `onLoadDocument` seed, or a write of `sync.documents` (`name`: the `actor`
   * it was given, if any).
   */
  | { kind: 'server'; name?: string }
  /** Another node of the cluster (the writer there is not known here). */
  | { kind: 'remote' }

/** One changed field, with its new value. */
export interface FieldChange {
  field: string
  /** The new value; `null` for a delete. */
  value: JsonValue
  /** True when the field was deleted. */
  deleted: boolean
}

/**
 * `document-change`: fields of a document changed. Emitted after the I/O turn that applied them
 * (the same turn hands them to the store), once per writer.
 */
export interface DocumentChangeEvent<Context = unknown> {
  documentId: string
  /** Who wrote. */
  actor: DocumentChangeActor
  /** The changed fields and their new values (the winners, in write order). */
  fields: FieldChange[]
  /** The same changes as registers, with their stamps (for stores, audit logs, replication). */
  registers: Register[]
  /** `local`: written through this node; `remote`: applied from another node. */
  origin: 'local' | 'remote'
  /** The app context of the writing connection, when a connection wrote. */
  context?: Context
}
/** `document-deleted`: a document was deleted (`sync.documents.delete`) and left memory. */
export interface DocumentDeletedEvent {
  documentId: string
  /** `local`: deleted through this node; `remote`: another node deleted it. */
  origin: 'local' | 'remote'
  /** The `actor` the delete was given (local deletes). */
  actor?: string
}
/** `document-loaded`: a document was loaded into memory. */
export interface DocumentLoadedEvent {
  documentId: string
  fields: number
}
/** `document-evicted`: an idle document left memory. */
export interface DocumentEvictedEvent {
  documentId: string
}
/** `awareness-change`: a client's presence changed (`state` null: it left). */
export interface AwarenessChangeEvent {
  documentId: string
  clientId: string
  state: JsonObject | null
}
/** `protocol-error`: a client was sent an `error` (or an engine bug was caught at its boundary). */
export interface ProtocolErrorEvent<Context = unknown> extends ConnectionScope<Context> {
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
    | 'verify-credentials'
    | 'validate'
    | 'load'
    | 'persist'
    | 'delete'
    | 'store-close'
    | 'broker'
    | 'broker-close'
    | 'listener'
    | 'engine'
    | 'resolve'
    /** A REST API request failed inside the server (the caller got 500). */
    | 'rest'
  connectionId?: string
  documentId?: string
}

/** The typed event map of `SyncServer` (eventemitter3); docs/events.md has one example each. */
export interface SyncServerEvents<Context = unknown> {
  /** A connection was admitted and opened. */
  connection: (event: ConnectionEvent<Context>) => void
  /** A connection was refused (HTTP status at the upgrade, or close code). */
  'connection-rejected': (event: ConnectionRejectedEvent) => void
  /** A connection closed. */
  disconnect: (event: DisconnectEvent<Context>) => void
  /** A connection has a principal. */
  authenticated: (event: AuthenticatedEvent<Context>) => void
  /** A connection follows a document. */
  subscribed: (event: SubscriptionEvent<Context>) => void
  /** A connection stopped following a document. */
  unsubscribed: (event: SubscriptionEvent<Context>) => void
  /** Fields changed (once per writer and turn). */
  'document-change': (event: DocumentChangeEvent<Context>) => void
  /** The same local change, once the store committed it (what webhooks report). */
  'document-committed': (event: DocumentChangeEvent<Context>) => void
  /** A document was deleted. */
  'document-deleted': (event: DocumentDeletedEvent) => void
  /** A document was loaded into memory. */
  'document-loaded': (event: DocumentLoadedEvent) => void
  /** An idle document left memory. */
  'document-evicted': (event: DocumentEvictedEvent) => void
  /** Presence changed. */
  'awareness-change': (event: AwarenessChangeEvent) => void
  /** A client was sent an `error`. */
  'protocol-error': (event: ProtocolErrorEvent<Context>) => void
  /** A runtime failure (also logged). */
  error: (error: Error, context: ErrorContext) => void
}

/** The name of a server event. */
export type ServerEventName = keyof SyncServerEvents

/** Engine observability events as the public events they become. */
export type PublicEngineEvent =
  | { name: 'protocol-error'; payload: ProtocolErrorEvent }
  | { name: 'authenticated'; payload: AuthenticatedEvent }
  | { name: 'document-change' | 'document-committed'; payload: DocumentChangeEvent }
  | { name: 'document-deleted'; payload: DocumentDeletedEvent }
  | { name: 'document-loaded'; payload: DocumentLoadedEvent }
  | { name: 'document-evicted'; payload: DocumentEvictedEvent }
  | { name: 'subscribed' | 'unsubscribed'; payload: SubscriptionEvent }
  | { name: 'awareness-change'; payload: AwarenessChangeEvent }

/** The app context of a connection, for events that concern it. */
export type ContextOf = (connectionId: string) => unknown

/** `connectionId`, and `context` when the connection has one. */
export function connectionScope(connectionId: string, contextOf: ContextOf): ConnectionScope {
  const context = connectionId ? contextOf(connectionId) : undefined
  return context === undefined ? { connectionId } : { connectionId, context }
}

/** The public event an engine event becomes; undefined for those the runtime handles itself. */
export function toPublicEvent(event: EngineEvent, contextOf: ContextOf): PublicEngineEvent | undefined {
  switch (event.type) {
    case 'protocol-error': {
      const payload: ProtocolErrorEvent = {
        ...connectionScope(event.conn, contextOf),
        code: event.code,
        message: event.message,
      }
      if (event.documentId !== undefined) payload.documentId = event.documentId
      return { name: 'protocol-error', payload }
    }
    case 'authenticated':
      return {
        name: 'authenticated',
        payload: { ...connectionScope(event.conn, contextOf), principal: event.principal },
      }
    case 'subscribed':
    case 'unsubscribed':
      return {
        name: event.type,
        payload: { ...connectionScope(event.conn, contextOf), documentId: event.documentId },
      }
    case 'document-change':
      return { name: 'document-change', payload: changePayload(event) }
    case 'document-committed':
      return { name: 'document-committed', payload: changePayload(event.change) }
    case 'document-deleted': {
      const { documentId, origin, actor } = event
      return {
        name: 'document-deleted',
        payload: actor === undefined ? { documentId, origin } : { documentId, origin, actor },
      }
    }
    case 'document-loaded':
      return { name: 'document-loaded', payload: { documentId: event.documentId, fields: event.fields } }
    case 'document-evicted':
      return { name: 'document-evicted', payload: { documentId: event.documentId } }
    case 'awareness-change': {
      const { documentId, clientId, state } = event
      return { name: 'awareness-change', payload: { documentId, clientId, state } }
    }
    case 'validator-fault':
      return undefined
  }
}

function changePayload(event: DocumentChangeEngineEvent): DocumentChangeEvent {
  const { documentId, registers, origin, actor, context } = event
  const payload: DocumentChangeEvent = {
    documentId,
    actor:
      actor.kind === 'connection'
        ? { kind: 'connection', connectionId: actor.conn, userId: actor.userId }
        : actor,
    fields: registers.map(({ field, value, deleted }) => ({
      field,
      value: deleted ? null : value,
      deleted,
    })),
    registers,
    origin,
  }
  if (context !== undefined) payload.context = context
  return payload
}

export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value))
}
