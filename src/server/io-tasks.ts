/**
 * The I/O behind the effects that complete later: verifying credentials, loading a document,
 * persisting a batch. Each runs as a task whose outcome goes back to the engine as a `Resolution`
 * (`effects.ts` starts them, the runtime feeds the outcome to `engine.resolve`).
 */
import type { VerifyCredentialsHook } from '../auth/hooks.js'
import type { DocumentSnapshot } from '../crdt/types.js'
import type { AuthenticateEffect, PersistEffect, Resolution } from '../engine/types.js'
import type { JsonValue } from '../protocol/types.js'
import type { DocumentStore } from '../storage/store.js'
import type { ErrorContext } from './events.js'
import { toError } from './events.js'
import { delay } from './scheduler.js'
import type { UpgradeRequest } from './transport.js'

/** Reports a failure the engine only sees as a resolution (for the `error` event and metrics). */
export type ErrorSink = (error: Error, context: ErrorContext) => void

const AUTH_FAILED = 'Authentication failed'

/** Verifies credentials (built-in JWT / API keys, or `auth.verifyCredentials`); none: refused. */
export async function authenticateTask(
  hook: VerifyCredentialsHook | undefined,
  effect: AuthenticateEffect,
  request: UpgradeRequest,
  onError: ErrorSink,
): Promise<Resolution> {
  const { conn } = effect
  if (!hook) return { kind: 'authentication-failed', conn, reason: AUTH_FAILED }
  try {
    const principal = await hook(effect.credentials, request)
    if (principal) return { kind: 'authenticated', conn, principal }
    return { kind: 'authentication-failed', conn, reason: AUTH_FAILED }
  } catch (error) {
    onError(toError(error), { operation: 'verify-credentials', connectionId: conn })
    return { kind: 'authentication-failed', conn, reason: AUTH_FAILED }
  }
}

/**
 * A document the store does not have starts empty, or with the fields `initialFields` gives it
 * (`onLoadDocument`), which the engine then writes and persists as this node's.
 */
export async function loadTask(
  store: DocumentStore,
  documentId: string,
  onError: ErrorSink,
  initialFields?: () => Promise<Readonly<Record<string, JsonValue>> | undefined>,
): Promise<Resolution> {
  try {
    const snapshot = await store.load(documentId)
    if (snapshot) return { kind: 'loaded', snapshot }
    const seed = await initialFields?.()
    return seed
      ? { kind: 'loaded', snapshot: emptySnapshot(documentId), seed }
      : { kind: 'loaded', snapshot: emptySnapshot(documentId) }
  } catch (error) {
    const err = toError(error)
    onError(err, { operation: 'load', documentId })
    return { kind: 'load-failed', documentId, error: publicReason(err) }
  }
}

/** Removes a document from the store (`sync.documents.delete`); the API checked it can. */
export async function deleteTask(
  store: DocumentStore,
  documentId: string,
  onError: ErrorSink,
): Promise<Resolution> {
  try {
    if (!store.delete) throw new Error('the store cannot delete documents')
    const existed = await store.delete(documentId)
    return { kind: 'deleted', documentId, existed }
  } catch (error) {
    const err = toError(error)
    onError(err, { operation: 'delete', documentId })
    return { kind: 'delete-failed', documentId, error: publicReason(err) }
  }
}

export function emptySnapshot(documentId: string): DocumentSnapshot {
  return { documentId, registers: [], clock: {} }
}

export interface PersistPolicy {
  attempts: number
  retryDelayMs: number
  /** Cap of the delay before a batch that follows failed batches. */
  maxRetryDelayMs: number
}

/**
 * Backoff across batches: a batch that used up its attempts is retried by the next flush, so
 * without this an outage is retried at the pace of the per-batch delays for as long as it lasts.
 * After `n` consecutive failed batches the next one waits `retryDelayMs * 2^(attempts - 2 + n)`
 * (the per-batch doubling, continued), capped at `maxRetryDelayMs`, before its first attempt. A
 * success resets it.
 */
export class PersistBackoff {
  #failures = 0

  constructor(private readonly policy: PersistPolicy) {}

  delayMs(): number {
    if (this.#failures === 0) return 0
    const { attempts, retryDelayMs, maxRetryDelayMs } = this.policy
    return Math.min(maxRetryDelayMs, retryDelayMs * 2 ** Math.min(30, attempts - 2 + this.#failures))
  }

  succeeded(): void {
    this.#failures = 0
  }

  failed(): void {
    this.#failures++
  }
}

/**
 * Saves one batch, retrying with doubling backoff (saves are idempotent LWW upserts, so a retry
 * after an ambiguous failure is safe). After the last attempt the engine is told, and it keeps
 * the registers dirty for the next flush: nothing is dropped, acks are simply not released.
 * `backoff` (shared by the server's batches) delays a batch that follows failed ones.
 */
export async function persistTask(
  store: DocumentStore,
  effect: PersistEffect,
  policy: PersistPolicy,
  onError: ErrorSink,
  onLatency: (seconds: number) => void,
  backoff?: { delayMs(): number; succeeded(): void; failed(): void },
): Promise<Resolution> {
  const wait = backoff?.delayMs() ?? 0
  if (wait > 0) await delay(wait)
  let lastError: Error = new Error('Store save failed')
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    const started = performance.now()
    try {
      await store.save(effect.documents)
      onLatency((performance.now() - started) / 1000)
      backoff?.succeeded()
      return { kind: 'persisted', batchId: effect.batchId }
    } catch (error) {
      lastError = toError(error)
      const documentId = effect.documents.length === 1 ? effect.documents[0]?.documentId : undefined
      onError(lastError, { operation: 'persist', ...(documentId ? { documentId } : {}) })
      if (attempt < policy.attempts) await delay(policy.retryDelayMs * 2 ** (attempt - 1))
    }
  }
  backoff?.failed()
  return { kind: 'persist-failed', batchId: effect.batchId, error: publicReason(lastError) }
}

/**
 * What a client is told about a store failure: the error's code (e.g. `CONNECTION_ERROR`), never
 * its message, which can name database hosts and ports. The full error goes to the `error` event.
 */
function publicReason(error: Error): string {
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && /^[A-Z_]{1,64}$/.test(code) ? code : 'store unavailable'
}
