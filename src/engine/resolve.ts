import { LwwDocument } from '../crdt/index.js'
import type { DocumentSnapshot, Register } from '../crdt/types.js'
import type { JsonValue } from '../protocol/types.js'
import { completeAuthentication, failAuthentication } from './authentication.js'
import type { EngineContext } from './context.js'
import { deleteFailed, documentDeleted, remoteDeleted } from './deletion.js'
import { dispatch } from './dispatch.js'
import { releaseTopic, touch } from './documents.js'
import { persisted, persistFailed } from './flush.js'
import { applyRemotePresence } from './presence.js'
import { replayBuffered } from './receive.js'
import { seedDocument } from './seed.js'
import { handleServerRequest, serverReply } from './server-requests.js'
import type { DocumentEntry, ParkableMessage, ParkedItem } from './state.js'
import type { Resolution } from './types.js'
import { unreachable } from './unreachable.js'
import { registerBytes, setFieldBytes } from './writes.js'

/**
 * Feeds the completion of an effect the runtime ran back into the engine. A new kind of
 * `Resolution` (types.ts) gets a case here; the type check fails until it has one.
 */
export function applyResolution(ctx: EngineContext, result: Resolution): void {
  switch (result.kind) {
    case 'authenticated': {
      const connection = ctx.connections.get(result.conn)
      if (!connection || connection.closed) return
      completeAuthentication(ctx, connection, result.principal)
      replayBuffered(ctx, connection)
      return
    }
    case 'authentication-failed': {
      const connection = ctx.connections.get(result.conn)
      if (!connection || connection.closed) return
      failAuthentication(ctx, connection, result.reason)
      return
    }
    case 'loaded':
      return documentLoaded(ctx, result.snapshot, result.seed)
    case 'load-failed':
      return documentLoadFailed(ctx, result.documentId, result.error)
    case 'persisted':
      return persisted(ctx, result.batchId)
    case 'persist-failed':
      return persistFailed(ctx, result.batchId, result.error)
    case 'remote-registers':
      return remoteRegisters(ctx, result.documentId, result.registers)
    case 'remote-awareness':
      return applyRemotePresence(ctx, result.documentId, result.entry)
    case 'deleted':
      return rerun(ctx, result.documentId, documentDeleted(ctx, result.documentId, result.existed))
    case 'delete-failed':
      return rerun(ctx, result.documentId, deleteFailed(ctx, result.documentId, result.error))
    case 'remote-deleted':
      return rerun(ctx, result.documentId, remoteDeleted(ctx, result.documentId))
    default:
      return unreachable(result, 'resolution')
  }
}

/** The document arrived: parked requests and remote updates run in arrival order. */
function documentLoaded(
  ctx: EngineContext,
  snapshot: DocumentSnapshot,
  seed: Readonly<Record<string, JsonValue>> | undefined,
): void {
  const entry = ctx.documents.get(snapshot.documentId)
  if (!entry || entry.status === 'ready') return
  entry.doc = new LwwDocument(snapshot.documentId, snapshot)
  entry.persistedClockVersion = entry.doc.clockVersion
  for (const register of entry.doc.registers()) {
    setFieldBytes(entry, register.field, registerBytes(register.field, register.value, register.deleted))
  }
  for (const register of snapshot.registers) ctx.hlc.observe(register.stamp)
  if (seed && snapshot.registers.length === 0) seedDocument(ctx, entry, seed)
  entry.status = 'ready'
  ctx.emit({ type: 'document-loaded', documentId: entry.id, fields: entry.doc.liveFieldCount })
  rerun(ctx, entry.id, entry.parked.splice(0))
}

/**
 * Requests that waited for the document, in arrival order. Each finds it ready, or waits again
 * (a delete among them made it `deleting`; after a delete they start a fresh load).
 */
function rerun(ctx: EngineContext, documentId: string, items: readonly ParkedItem[]): void {
  for (const item of items) {
    switch (item.kind) {
      case 'remote':
        remoteRegisters(ctx, documentId, item.registers)
        break
      case 'server':
        handleServerRequest(ctx, item.request)
        break
      case 'message':
        // Writes received before the connection closed still apply: the client sent them. Its
        // reads would answer nobody (skipped here, so a close never walks the documents).
        if (item.connection.closed && !isWrite(item.message)) break
        dispatch(ctx, item.connection, item.message, item.bytes)
        break
    }
  }
}

/** Waiting requests get an error, never an empty document (which clients would adopt). */
function documentLoadFailed(ctx: EngineContext, documentId: string, error: string): void {
  const entry = ctx.documents.get(documentId)
  if (!entry || entry.status === 'ready') return
  ctx.documents.delete(documentId)
  releaseTopic(ctx, documentId)
  for (const item of entry.parked) {
    if (item.kind === 'server') {
      const message = `Failed to load document: ${error}`
      serverReply(ctx, item.request.id, { ok: false, code: 'STORE_FAILED', message })
      continue
    }
    if (item.kind !== 'message' || item.connection.closed) continue
    ctx.sendError(item.connection.id, `Failed to load document: ${error}`, 'LOAD_FAILED', { documentId })
  }
  // Only resumed connections subscribe before the load ends. They believe they are subscribed
  // and would silently miss every change: a reconnect makes them subscribe (and load) again.
  for (const conn of entry.subscribers) {
    ctx.connections.get(conn)?.subscriptions.delete(documentId)
    ctx.sendError(conn, `Failed to load document: ${error}`, 'LOAD_FAILED', { documentId })
    ctx.requestClose(conn, 1013, 'Document unavailable; reconnect to resync')
  }
}

function remoteRegisters(ctx: EngineContext, documentId: string, registers: Register[]): void {
  const entry = ctx.documents.get(documentId)
  // Not in memory: the store is the source of truth when it is next loaded.
  if (!entry) return
  if (entry.status !== 'ready') {
    entry.parked.push({ kind: 'remote', registers })
    return
  }
  applyRemote(ctx, entry, registers)
}

/**
 * Registers another node applied: same LWW rule. Every field they touch is echoed, won or lost,
 * with this node's clock entry lifted above every clock sent before: a local SDK client that
 * wrote the losing value compares `max(clock)` and must see the echo win to roll back.
 */
function applyRemote(ctx: EngineContext, entry: DocumentEntry, registers: Register[]): void {
  const doc = entry.doc
  if (!doc || registers.length === 0) return
  const changed: Register[] = []
  for (const register of registers) {
    ctx.hlc.observe(register.stamp)
    entry.pendingEcho.add(register.field)
    if (doc.applyRemote(register)) {
      const winner = doc.get(register.field)
      if (winner) {
        changed.push(winner)
        setFieldBytes(entry, winner.field, registerBytes(winner.field, winner.value, winner.deleted))
      }
    }
  }
  doc.advanceClock(ctx.nodeId, doc.clockMax() + 1)
  entry.lastActive = ctx.now
  touch(ctx, entry)
  if (changed.length > 0) {
    ctx.emit({
      type: 'document-change',
      documentId: entry.id,
      registers: changed,
      origin: 'remote',
      actor: { kind: 'remote' },
    })
  }
}

function isWrite(message: ParkableMessage): boolean {
  return message.type === 'delta' || message.type === 'delta_batch'
}
