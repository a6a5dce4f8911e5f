import { LwwDocument } from '../crdt/index.js'
import type { DocumentSnapshot, Register } from '../crdt/types.js'
import type { JsonValue } from '../protocol/types.js'
import type { EngineCore } from './core.js'
import { dispatch } from './dispatch.js'
import { persisted, persistFailed } from './flush.js'
import { completeAuthentication } from './handlers/auth.js'
import { applyRemotePresence } from './presence.js'
import { replayBuffered } from './receive.js'
import { seedDocument } from './seed.js'
import type { DocumentEntry } from './state.js'
import type { Resolution } from './types.js'
import { registerBytes, setFieldBytes } from './writes.js'

/** Feeds the completion of an effect the runtime ran back into the engine. */
export function applyResolution(core: EngineCore, result: Resolution): void {
  switch (result.kind) {
    case 'authenticated': {
      const connection = core.connections.get(result.conn)
      if (!connection || connection.closed) return
      completeAuthentication(core, connection, result.principal)
      replayBuffered(core, connection)
      return
    }
    case 'authentication-failed': {
      const connection = core.connections.get(result.conn)
      if (!connection || connection.closed) return
      core.sendTo(connection.id, {
        type: 'auth_error',
        error: 'Authentication failed',
        details: { code: 'AUTH_FAILED' },
      })
      core.emit({ type: 'protocol-error', conn: connection.id, code: 'AUTH_FAILED', message: result.reason })
      core.closeConnection(connection.id, 1008, 'Authentication failed')
      return
    }
    case 'loaded':
      return documentLoaded(core, result.snapshot, result.seed)
    case 'load-failed':
      return documentLoadFailed(core, result.documentId, result.error)
    case 'persisted':
      return persisted(core, result.batchId)
    case 'persist-failed':
      return persistFailed(core, result.batchId, result.error)
    case 'remote-registers':
      return remoteRegisters(core, result.documentId, result.registers)
    case 'remote-awareness':
      return applyRemotePresence(core, result.documentId, result.entry)
  }
}

/** The document arrived: parked requests and remote updates run in arrival order. */
function documentLoaded(
  core: EngineCore,
  snapshot: DocumentSnapshot,
  seed: Readonly<Record<string, JsonValue>> | undefined,
): void {
  const entry = core.documents.get(snapshot.documentId)
  if (!entry || entry.status === 'ready') return
  entry.doc = new LwwDocument(snapshot.documentId, snapshot)
  entry.persistedClockVersion = entry.doc.clockVersion
  for (const register of entry.doc.registers()) {
    setFieldBytes(entry, register.field, registerBytes(register.field, register.value, register.deleted))
  }
  for (const register of snapshot.registers) core.hlc.observe(register.stamp)
  if (seed && snapshot.registers.length === 0) seedDocument(core, entry, seed)
  entry.status = 'ready'
  core.emit({ type: 'document-loaded', documentId: entry.id, fields: entry.doc.liveFieldCount })
  const parked = entry.parked.splice(0)
  for (const item of parked) {
    if (item.kind === 'remote') {
      applyRemote(core, entry, item.registers)
      continue
    }
    // Writes received before the connection closed still apply: the client sent them.
    dispatch(core, item.connection, item.message, item.bytes)
  }
}

/** Waiting requests get an error, never an empty document (which clients would adopt). */
function documentLoadFailed(core: EngineCore, documentId: string, error: string): void {
  const entry = core.documents.get(documentId)
  if (!entry || entry.status === 'ready') return
  core.documents.delete(documentId)
  core.releaseTopic(documentId)
  for (const item of entry.parked) {
    if (item.kind !== 'message' || item.connection.closed) continue
    core.sendError(item.connection.id, `Failed to load document: ${error}`, 'LOAD_FAILED', { documentId })
  }
  // Only resumed connections subscribe before the load ends. They believe they are subscribed
  // and would silently miss every change: a reconnect makes them subscribe (and load) again.
  for (const conn of entry.subscribers) {
    core.connections.get(conn)?.subscriptions.delete(documentId)
    core.sendError(conn, `Failed to load document: ${error}`, 'LOAD_FAILED', { documentId })
    core.closeConnection(conn, 1013, 'Document unavailable; reconnect to resync')
  }
}

function remoteRegisters(core: EngineCore, documentId: string, registers: Register[]): void {
  const entry = core.documents.get(documentId)
  // Not in memory: the store is the source of truth when it is next loaded.
  if (!entry) return
  if (entry.status === 'loading') {
    entry.parked.push({ kind: 'remote', registers })
    return
  }
  applyRemote(core, entry, registers)
}

/**
 * Registers another node applied: same LWW rule. Every field they touch is echoed, won or lost,
 * with this node's clock entry lifted above every clock sent before: a local SDK client that
 * wrote the losing value compares `max(clock)` and must see the echo win to roll back.
 */
function applyRemote(core: EngineCore, entry: DocumentEntry, registers: Register[]): void {
  const doc = entry.doc
  if (!doc || registers.length === 0) return
  const changed: Register[] = []
  for (const register of registers) {
    core.hlc.observe(register.stamp)
    entry.pendingEcho.add(register.field)
    if (doc.applyRemote(register)) {
      const winner = doc.get(register.field)
      if (winner) {
        changed.push(winner)
        setFieldBytes(entry, winner.field, registerBytes(winner.field, winner.value, winner.deleted))
      }
    }
  }
  doc.advanceClock(core.nodeId, doc.clockMax() + 1)
  entry.lastActive = core.now
  core.touch(entry)
  if (changed.length > 0) {
    core.emit({
      type: 'document-change',
      documentId: entry.id,
      registers: changed,
      origin: 'remote',
      actor: { kind: 'remote' },
    })
  }
}
