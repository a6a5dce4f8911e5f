/** `synckit-engine/client`: a small typed SyncKit protocol client for Node and browsers. */

export type { JsonObject, JsonValue, VectorClock } from '../protocol/types.js'
export { reconnectDelay } from './backoff.js'
export { createSyncClient } from './client.js'
export type {
  AwarenessEvent,
  AwarenessHandle,
  ChangeEvent,
  ChangeOrigin,
  ClientDialect,
  CloseEvent,
  DeltaEvent,
  DocumentReplica,
  DocumentSubscription,
  DocumentView,
  OpenEvent,
  PresenceEntry,
  ReconnectOptions,
  SocketEventLike,
  SyncClient,
  SyncClientEvents,
  SyncClientOptions,
  WebSocketConstructorLike,
  WebSocketLike,
} from './types.js'
export { SyncServerError } from './types.js'
