/**
 * `synckit-engine`: what an embedder needs. Create a server, attach a transport
 * (`synckit-engine/ws`, `/node`, `/bun`, `/deno`, or your own through `upgrade` and
 * `handleConnection`), and bend it with auth, validation, hooks and events.
 *
 * Building blocks live behind their own subpaths: `synckit-engine/protocol` (codecs),
 * `/crdt` (registers, clocks), `/storage` (SQL store parts), `/cluster` (brokers),
 * `/testing` (acceptance suites), `/postgres`, `/redis`, `/client`, `/webhooks` (signed
 * webhooks), `/backup` (export, import, SyncKit import; Node).
 *
 * @packageDocumentation
 */

export type { JwtAlgorithm } from './auth/algorithms.js'
// ---------------------------------------------------------------- auth
export type { ApiKeyEntry, ApiKeyLookup, ApiKeySource, ApiKeyVerifier } from './auth/api-keys.js'
export { createApiKeyVerifier } from './auth/api-keys.js'
export { parseApiKeysEnv } from './auth/api-keys-env.js'
export type { AuthConfig, AuthFailure } from './auth/authenticator.js'
export { createAuthenticator } from './auth/authenticator.js'
export { type AuthEnv, authConfigFromEnv, type EnvAuthConfig } from './auth/env.js'
export { AuthConfigError, AuthError, type AuthErrorCode } from './auth/errors.js'
export type {
  AuthenticateHook,
  AuthenticateRequest,
  AuthenticateResult,
  HeadersLike,
  RequestLike,
  VerifyCredentialsHook,
} from './auth/hooks.js'
export { parsePermissionsClaim } from './auth/permissions.js'
export {
  type AuthRoutesHandler,
  type AuthRoutesOptions,
  type AuthUser,
  createAuthRoutes,
  type RouteSigningOptions,
} from './auth/routes.js'
export {
  type AccessTokenClaims,
  type RefreshTokenClaims,
  type SigningKey,
  type SigningOptions,
  signAccessToken,
  signRefreshToken,
  verifyRefreshToken,
  verifyToken,
} from './auth/tokens.js'
export {
  createTokenVerifier,
  type JwksOptions,
  type TokenKind,
  type TokenVerifier,
  type TokenVerifierOptions,
  type VerificationKey,
  type VerifiedToken,
} from './auth/verifier.js'
export {
  type Broker,
  BrokerClosedError,
  type BrokerHandler,
  BrokerUnavailableError,
} from './cluster/broker.js'
// ---------------------------------------------------------------- storage and cluster seams
export type { DocumentSnapshot, Dot, Register, Stamp } from './crdt/types.js'
// ---------------------------------------------------------------- the engine and its policies
export { SyncEngine } from './engine/engine.js'
export { ANONYMOUS_PERMISSIONS, DEFAULT_LIMITS } from './engine/limits.js'
export { matchesPattern, rbacPolicy } from './engine/rbac.js'
export type {
  AuthenticateEffect,
  AuthorizePolicy,
  AuthorizeRequest,
  ChangeActor,
  CloseEffect,
  ConnectionId,
  ConnectionInfo,
  ConnectionUsage,
  Credentials,
  DeleteEffect,
  DocumentAction,
  DocumentChangeEngineEvent,
  DocumentUsage,
  DocumentValidator,
  Effect,
  EmitEffect,
  EngineEvent,
  EngineLimits,
  EngineOptions,
  EngineStats,
  FieldSchemas,
  FieldWriteInfo,
  LoadEffect,
  OwnedAwarenessEntry,
  PersistEffect,
  Principal,
  PublishAwarenessEffect,
  PublishDeleteEffect,
  PublishEffect,
  Resolution,
  ResumedConnection,
  RevokeTarget,
  SendEffect,
  ServerRefusalCode,
  ServerReplyEffect,
  ServerRequest,
  ServerWrite,
  TestOnlyOptions,
  TopicEffect,
  ValidationContext,
  ValidationIssue,
  ValidationRules,
  WriteValidator,
} from './engine/types.js'
export type {
  AwarenessEntry,
  ClientMessage,
  ErrorCode,
  JsonObject,
  JsonPrimitive,
  JsonValue,
  Permissions,
  ServerMessage,
  VectorClock,
  WireFormat,
} from './protocol/types.js'
// ---------------------------------------------------------------- the server
export { createSyncServer } from './server/create-sync-server.js'
export {
  DocumentApiError,
  type DocumentApiErrorCode,
  type DocumentChange,
  type DocumentPage,
  type DocumentView,
  type FieldMeta,
  type PresenceEntry,
  type ServerDocuments,
} from './server/documents.js'
export type {
  AuthenticatedEvent,
  AwarenessChangeEvent,
  ConnectionEvent,
  ConnectionRejectedEvent,
  ConnectionScope,
  DisconnectEvent,
  DocumentChangeActor,
  DocumentChangeEvent,
  DocumentDeletedEvent,
  DocumentEvictedEvent,
  DocumentLoadedEvent,
  ErrorContext,
  FieldChange,
  ProtocolErrorEvent,
  ServerEventName,
  SubscriptionEvent,
  SyncServerEvents,
} from './server/events.js'
export { consoleLogger, type Logger, type LogLevel } from './server/logger.js'
export type {
  AuthOptions,
  BackpressureOptions,
  HeartbeatOptions,
  HttpOptions,
  LoadDocumentHook,
  LoadDocumentRequest,
  PersistOptions,
  SyncServerOptions,
  TrustProxy,
} from './server/options.js'
export type { RestOptions } from './server/rest/options.js'
export type { StaticFile, StaticFiles } from './server/static-files.js'
export {
  type ConnectionHandle,
  type ConnectionOptions,
  refusalResponse,
  type SyncServerTransport,
  type SyncSocket,
  type UpgradeAdmission,
  type UpgradeRefusal,
  type UpgradeRefusalCode,
  type UpgradeRequest,
  type UpgradeResult,
} from './server/transport.js'
export type { RuntimeLimits, ServerStats, SyncServer } from './server/types.js'
export { SERVER_NAME, VERSION } from './server/version.js'
export {
  DataDirectoryLockedError,
  type LockHolder,
  StoreError,
  type StoreErrorCode,
} from './storage/errors.js'
export { MemoryStore } from './storage/memory-store.js'
export { createPgliteStore, type PgliteStoreOptions } from './storage/pglite.js'
export { createSqliteStore, type SqliteStoreOptions } from './storage/sqlite.js'
export type { DocumentStore, ListDocumentsOptions } from './storage/store.js'
