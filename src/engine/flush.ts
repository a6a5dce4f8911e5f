import type { DocumentSnapshot, Register } from '../crdt/types.js'
import type { VectorClock } from '../protocol/types.js'
import type { EngineCore } from './core.js'
import type { DocumentEntry, PendingAck } from './state.js'

/**
 * End of an I/O turn: one echo per touched field to every subscriber (the writer included, with
 * the document clock) and one `persist` effect for everything applied in the turn (group commit)
 * carrying the turn's acks. Cluster `publish` waits for the commit (see `persisted`).
 */
export function flushTurn(core: EngineCore): void {
  const persistDocs = new Map<string, Register[]>()
  const clocks = new Map<string, VectorClock>()
  for (const documentId of core.touched) {
    const entry = core.documents.get(documentId)
    if (!entry?.doc) continue
    // One copy of the clock per document and turn, shared by the echoes and the persist batch.
    const clock = entry.doc.clock()
    echoFields(core, entry, clock)
    if (entry.dirty.size > 0) {
      const registers = [...entry.dirty.values()]
      entry.dirty.clear()
      persistDocs.set(documentId, registers)
      clocks.set(documentId, clock)
      if (entry.announce.size > 0) {
        core.emit({
          type: 'document-change',
          documentId,
          registers: [...entry.announce.values()],
          origin: 'local',
        })
        entry.announce.clear()
      }
    }
  }
  core.touched.clear()
  const acks = core.acksThisTurn
  core.acksThisTurn = []
  if (persistDocs.size === 0) {
    releaseAcks(core, acks)
    return
  }
  startPersist(core, persistDocs, clocks, acks)
}

function echoFields(core: EngineCore, entry: DocumentEntry, documentClock: VectorClock): void {
  const doc = entry.doc
  if (!doc || entry.pendingEcho.size === 0) return
  if (entry.subscribers.size > 0) {
    const to = [...entry.subscribers]
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
  entry.pendingEcho.clear()
}

function startPersist(
  core: EngineCore,
  documents: Map<string, Register[]>,
  clocks: Map<string, VectorClock>,
  acks: PendingAck[],
): void {
  const batchId = core.nextBatchId++
  core.batches.set(batchId, { acks, documents })
  const snapshots: DocumentSnapshot[] = []
  for (const [documentId, registers] of documents) {
    const entry = core.documents.get(documentId)
    if (entry) entry.inFlight++
    snapshots.push({ documentId, registers, clock: clocks.get(documentId) ?? {} })
  }
  core.out.push({ kind: 'persist', batchId, documents: snapshots })
}

export function releaseAcks(core: EngineCore, acks: PendingAck[]): void {
  for (const ack of acks) {
    if (core.connections.get(ack.conn)?.closed === false) {
      core.sendTo(ack.conn, { type: 'ack', messageId: ack.messageId })
    }
  }
}

/**
 * The batch is durable: release its acks, then publish its registers to the cluster. Publishing
 * only after the commit closes the window in which a node that subscribes to the document and
 * loads it from the store would miss a register that is neither in the store nor on the topic.
 */
export function persisted(core: EngineCore, batchId: number): void {
  const batch = core.batches.get(batchId)
  if (!batch) return
  core.batches.delete(batchId)
  settleInFlight(core, batch.documents)
  releaseAcks(core, batch.acks)
  for (const [documentId, registers] of batch.documents)
    core.out.push({ kind: 'publish', documentId, registers })
}

/**
 * The store refused the batch: no ack is released (the writers are told, with a code), and the
 * registers go back to the dirty set so the next flush retries them. Nothing acked is lost.
 */
export function persistFailed(core: EngineCore, batchId: number, error: string): void {
  const batch = core.batches.get(batchId)
  if (!batch) return
  core.batches.delete(batchId)
  settleInFlight(core, batch.documents)
  for (const ack of batch.acks) {
    if (core.connections.get(ack.conn)?.closed !== false) continue
    core.sendError(ack.conn, `Write not persisted: ${error}`, 'PERSIST_FAILED', {
      documentId: ack.documentId,
      messageId: ack.messageId,
    })
  }
  for (const [documentId, registers] of batch.documents) {
    const entry = core.documents.get(documentId)
    if (!entry) continue
    for (const register of registers) {
      if (!entry.dirty.has(register.field)) entry.dirty.set(register.field, register)
    }
    core.touch(entry)
  }
}

function settleInFlight(core: EngineCore, documents: Map<string, Register[]>): void {
  for (const documentId of documents.keys()) {
    const entry = core.documents.get(documentId)
    if (entry && entry.inFlight > 0) entry.inFlight--
  }
}
