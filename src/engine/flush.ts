import { registerWins } from '../crdt/register.js'
import type { DocumentSnapshot } from '../crdt/types.js'
import type { VectorClock } from '../protocol/types.js'
import { releaseAcks } from './acks.js'
import { announceChanges, compactChanges, MAX_UNCOMMITTED_CHANGES } from './changes.js'
import type { EngineContext } from './context.js'
import { requestDelete } from './deletion.js'
import { touch } from './documents.js'
import type { DocumentEntry, PendingAck } from './state.js'
import { wireClock, wireValue } from './wire.js'

const NO_ACKS: readonly PendingAck[] = Object.freeze([])

/**
 * End of an I/O turn: one echo per touched field to every subscriber (the writer included, with
 * the document clock) and one `persist` effect for everything applied in the turn (group commit)
 * carrying the turn's acks. Cluster `publish` waits for the commit (see `persisted`).
 */
export function flushTurn(ctx: EngineContext): void {
  // Most turns touch one document: no per-turn maps, one array only when something is dirty.
  let snapshots: DocumentSnapshot[] | undefined
  // A fresh list for the next turn rather than emptying this one: shrinking an array's length is a
  // runtime call, dearer than the new array (nothing below touches a document either way).
  const touched = ctx.touched
  if (touched.length > 0) ctx.touched = []
  for (const entry of touched) {
    entry.touched = false
    // Evicted, failed to load or being deleted since it was touched: nothing of it to flush.
    if (!entry.doc || entry.status !== 'ready' || ctx.documents.get(entry.id) !== entry) continue
    // One copy of the clock per document and turn, shared by the echoes and the persist batch.
    const clock = entry.doc.clock()
    echoFields(ctx, entry, clock)
    const clockMoved = entry.doc.clockVersion !== entry.persistedClockVersion
    if (entry.dirty.size === 0 && !clockMoved) continue
    entry.persistedClockVersion = entry.doc.clockVersion
    const registers = Array.from(entry.dirty.values())
    // Older changes first: those a failed batch held, then this turn's.
    if (entry.uncommitted !== undefined) {
      for (const change of entry.uncommitted) ctx.changesThisTurn.push(change)
      entry.uncommitted = undefined
    }
    // Before `dirty` is replaced: the turn's changes are usually `dirty` itself.
    announceChanges(ctx, entry)
    entry.dirty = new Map()
    if (snapshots === undefined) snapshots = []
    snapshots.push({ documentId: entry.id, registers, clock })
  }
  // The batch keeps its acks: a turn without any must not hand over the array the next turn fills.
  const acks = ctx.acksThisTurn.length > 0 ? ctx.acksThisTurn : NO_ACKS
  if (acks !== NO_ACKS) ctx.acksThisTurn = []
  if (snapshots === undefined) {
    releaseAcks(ctx, acks)
    return
  }
  startPersist(ctx, snapshots, acks)
}

function echoFields(ctx: EngineContext, entry: DocumentEntry, documentClock: VectorClock): void {
  const doc = entry.doc
  if (!doc || entry.pendingEcho.size === 0) return
  if (entry.subscribers.size > 0) {
    const to = entry.subscribers.list()
    // Never empty on the wire (D6, docs/protocol.md §6.4); a touched document nearly always has entries.
    const clock = doc.clockMax() > 0 ? documentClock : wireClock(ctx, entry)
    for (const field of entry.pendingEcho) {
      const register = doc.get(field)
      if (!register) continue
      ctx.send(to, {
        type: 'delta',
        documentId: entry.id,
        field,
        value: wireValue(register),
        clock,
        clientId: 'server',
      })
    }
  }
  entry.pendingEcho = new Set()
}

function startPersist(ctx: EngineContext, documents: DocumentSnapshot[], acks: readonly PendingAck[]): void {
  const batchId = ctx.nextBatchId++
  const changes = ctx.changesThisTurn
  ctx.changesThisTurn = []
  ctx.batches.add({ id: batchId, acks, documents, changes })
  for (const snapshot of documents) {
    const entry = ctx.documents.get(snapshot.documentId)
    if (entry) entry.inFlight++
  }
  ctx.effect({ kind: 'persist', batchId, documents })
}

/**
 * The batch is durable: release its acks, then publish its registers to the cluster. Publishing
 * only after the commit closes the window in which a node that subscribes to the document and
 * loads it from the store would miss a register that is neither in the store nor on the topic.
 */
export function persisted(ctx: EngineContext, batchId: number): void {
  const batch = ctx.batches.take(batchId)
  if (!batch) return
  settleInFlight(ctx, batch.documents)
  releaseAcks(ctx, batch.acks)
  for (const { documentId, registers } of batch.documents) {
    if (registers.length > 0) ctx.effect({ kind: 'publish', documentId, registers })
  }
  for (const change of batch.changes) ctx.emit({ type: 'document-committed', change })
}

/**
 * The store refused the batch: no ack is released (the writers are told, with a code), and the
 * registers go back to the dirty set so the next flush retries them. Nothing acked is lost.
 */
export function persistFailed(ctx: EngineContext, batchId: number, error: string): void {
  const batch = ctx.batches.take(batchId)
  if (!batch) return
  settleInFlight(ctx, batch.documents)
  for (const ack of batch.acks) {
    if ('request' in ack) {
      const reply = { ok: false, code: 'STORE_FAILED', message: `Write not persisted: ${error}` } as const
      ctx.effect({ kind: 'server-reply', id: ack.request, reply })
      continue
    }
    if (ctx.connections.get(ack.conn)?.closed !== false) continue
    ctx.sendError(ack.conn, `Write not persisted: ${error}`, 'PERSIST_FAILED', {
      documentId: ack.documentId,
      messageId: ack.messageId,
    })
  }
  for (const { documentId, registers } of batch.documents) {
    const entry = ctx.documents.get(documentId)
    if (entry?.status !== 'ready') continue
    // The clock of the failed batch is not stored either: the next flush persists the current one.
    entry.persistedClockVersion = -1
    // What goes back was announced already: from now on the turn's changes are not all of `dirty`.
    entry.changesToAnnounce ??= new Map(entry.dirty)
    for (const register of registers) {
      // Batches can fail in any order: keep the LWW winner of the field, never just the first back.
      const queued = entry.dirty.get(register.field)
      if (queued === undefined || registerWins(register, queued)) entry.dirty.set(register.field, register)
    }
    touch(ctx, entry)
  }
  // Their registers are retried by the next flush: their changes are committed with them.
  for (const change of batch.changes) {
    const entry = ctx.documents.get(change.documentId)
    if (entry?.status !== 'ready') continue
    entry.uncommitted ??= []
    entry.uncommitted.push(change)
    if (entry.uncommitted.length > MAX_UNCOMMITTED_CHANGES)
      entry.uncommitted = compactChanges(entry.uncommitted)
  }
}

function settleInFlight(ctx: EngineContext, documents: readonly DocumentSnapshot[]): void {
  for (const { documentId } of documents) {
    const entry = ctx.documents.get(documentId)
    if (!entry || entry.inFlight === 0) continue
    entry.inFlight--
    if (entry.inFlight === 0 && entry.deletion) requestDelete(ctx, entry)
  }
}
