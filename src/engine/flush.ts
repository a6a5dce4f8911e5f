import { registerWins } from '../crdt/register.js'
import type { DocumentSnapshot } from '../crdt/types.js'
import type { VectorClock } from '../protocol/types.js'
import { announceChanges } from './changes.js'
import type { EngineCore } from './core.js'
import type { DocumentEntry, PendingAck } from './state.js'

const NO_ACKS: readonly PendingAck[] = Object.freeze([])

/**
 * End of an I/O turn: one echo per touched field to every subscriber (the writer included, with
 * the document clock) and one `persist` effect for everything applied in the turn (group commit)
 * carrying the turn's acks. Cluster `publish` waits for the commit (see `persisted`).
 */
export function flushTurn(core: EngineCore): void {
  // Most turns touch one document: no per-turn maps, one array only when something is dirty.
  let snapshots: DocumentSnapshot[] | undefined
  // Nothing below touches a document, so the list can be walked and emptied in place.
  for (const entry of core.touched) {
    entry.touched = false
    // Evicted or failed to load since it was touched: nothing of it is left to flush.
    if (!entry.doc || core.documents.get(entry.id) !== entry) continue
    // One copy of the clock per document and turn, shared by the echoes and the persist batch.
    const clock = entry.doc.clock()
    echoFields(core, entry, clock)
    const clockMoved = entry.doc.clockVersion !== entry.persistedClockVersion
    if (entry.dirty.size === 0 && !clockMoved) continue
    entry.persistedClockVersion = entry.doc.clockVersion
    const registers = Array.from(entry.dirty.values())
    announceChanges(core, entry)
    entry.dirty = new Map()
    if (snapshots === undefined) snapshots = []
    snapshots.push({ documentId: entry.id, registers, clock })
  }
  core.touched.length = 0
  // The batch keeps its acks: a turn without any must not hand over the array the next turn fills.
  const acks = core.acksThisTurn.length > 0 ? core.acksThisTurn : NO_ACKS
  if (acks !== NO_ACKS) core.acksThisTurn = []
  if (snapshots === undefined) {
    releaseAcks(core, acks)
    return
  }
  startPersist(core, snapshots, acks)
}

function echoFields(core: EngineCore, entry: DocumentEntry, documentClock: VectorClock): void {
  const doc = entry.doc
  if (!doc || entry.pendingEcho.size === 0) return
  if (entry.subscribers.size > 0) {
    const to = entry.subscribers.list()
    // Never empty on the wire (PROTOCOL.md §3.6 D6); a touched document nearly always has entries.
    const clock = doc.clockMax() > 0 ? documentClock : core.wireClock(entry)
    for (const field of entry.pendingEcho) {
      const register = doc.get(field)
      if (!register) continue
      core.send(to, {
        type: 'delta',
        documentId: entry.id,
        field,
        value: core.wireValue(register),
        clock,
        clientId: 'server',
      })
    }
  }
  entry.pendingEcho = new Set()
}

function startPersist(core: EngineCore, documents: DocumentSnapshot[], acks: readonly PendingAck[]): void {
  const batchId = core.nextBatchId++
  core.batches.add({ id: batchId, acks, documents })
  for (const snapshot of documents) {
    const entry = core.documents.get(snapshot.documentId)
    if (entry) entry.inFlight++
  }
  core.out.push({ kind: 'persist', batchId, documents })
}

export function releaseAcks(core: EngineCore, acks: readonly PendingAck[]): void {
  for (const ack of acks) {
    const connection = core.connections.get(ack.conn)
    if (connection?.closed === false) core.send(connection.only, { type: 'ack', messageId: ack.messageId })
  }
}

/**
 * The batch is durable: release its acks, then publish its registers to the cluster. Publishing
 * only after the commit closes the window in which a node that subscribes to the document and
 * loads it from the store would miss a register that is neither in the store nor on the topic.
 */
export function persisted(core: EngineCore, batchId: number): void {
  const batch = core.batches.take(batchId)
  if (!batch) return
  settleInFlight(core, batch.documents)
  releaseAcks(core, batch.acks)
  for (const { documentId, registers } of batch.documents) {
    if (registers.length > 0) core.out.push({ kind: 'publish', documentId, registers })
  }
}

/**
 * The store refused the batch: no ack is released (the writers are told, with a code), and the
 * registers go back to the dirty set so the next flush retries them. Nothing acked is lost.
 */
export function persistFailed(core: EngineCore, batchId: number, error: string): void {
  const batch = core.batches.take(batchId)
  if (!batch) return
  settleInFlight(core, batch.documents)
  for (const ack of batch.acks) {
    if (core.connections.get(ack.conn)?.closed !== false) continue
    core.sendError(ack.conn, `Write not persisted: ${error}`, 'PERSIST_FAILED', {
      documentId: ack.documentId,
      messageId: ack.messageId,
    })
  }
  for (const { documentId, registers } of batch.documents) {
    const entry = core.documents.get(documentId)
    if (!entry) continue
    // The clock of the failed batch is not stored either: the next flush persists the current one.
    entry.persistedClockVersion = -1
    for (const register of registers) {
      // Batches can fail in any order: keep the LWW winner of the field, never just the first back.
      const queued = entry.dirty.get(register.field)
      if (queued === undefined || registerWins(register, queued)) entry.dirty.set(register.field, register)
    }
    core.touch(entry)
  }
}

function settleInFlight(core: EngineCore, documents: readonly DocumentSnapshot[]): void {
  for (const { documentId } of documents) {
    const entry = core.documents.get(documentId)
    if (entry && entry.inFlight > 0) entry.inFlight--
  }
}
