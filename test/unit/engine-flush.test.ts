import { describe, expect, it } from 'vitest'
import { SyncEngine } from '../../src/engine/index.js'
import type { Effect, PersistEffect } from '../../src/engine/types.js'
import type { ClientMessage } from '../../src/protocol/types.js'

/** One subscribed connection `c` on a loaded, empty `doc`, durable acks. */
function engineWithSubscriber(): SyncEngine {
  let id = 0
  const engine = new SyncEngine({
    nodeId: 'n',
    anonymous: true,
    durableAcks: true,
    resendFieldsOnSubscribe: false,
    newId: () => `s${++id}`,
  })
  engine.open('c', 1)
  const subscribe: ClientMessage = { type: 'subscribe', timestamp: 1, documentId: 'doc' }
  for (const effect of engine.receiveMessage('c', subscribe, 1)) {
    if (effect.kind === 'load') {
      engine.resolve({ kind: 'loaded', snapshot: { documentId: 'doc', registers: [], clock: {} } }, 1)
    }
  }
  engine.flush(1)
  return engine
}

const write = (field: string, messageId?: string): ClientMessage => ({
  type: 'delta',
  timestamp: 1,
  documentId: 'doc',
  writes: [{ field, value: 1, deleted: false }],
  ...(messageId ? { messageId } : {}),
})

const persistOf = (effects: Effect[]): PersistEffect => {
  const persist = effects.find((e): e is PersistEffect => e.kind === 'persist')
  if (!persist) throw new Error('no persist effect')
  return persist
}

const acked = (effects: Effect[]): string[] =>
  effects.flatMap((e) => (e.kind === 'send' && e.message.type === 'ack' ? [e.message.messageId] : []))

describe('engine flush: persist batches and their acks', () => {
  it('a batch without acks does not release the acks of a later turn', () => {
    const engine = engineWithSubscriber()
    engine.receiveMessage('c', write('a'), 2) // no messageId: nothing to ack
    const first = persistOf(engine.flush(2))
    engine.receiveMessage('c', write('b', 'w2'), 3)
    const second = persistOf(engine.flush(3))
    expect(acked(engine.resolve({ kind: 'persisted', batchId: first.batchId }, 4))).toEqual([])
    expect(acked(engine.resolve({ kind: 'persisted', batchId: second.batchId }, 5))).toEqual(['w2'])
  })

  it('releases the right acks when the store completes batches out of order, each once', () => {
    const engine = engineWithSubscriber()
    const batches = ['w1', 'w2', 'w3'].map((messageId, i) => {
      engine.receiveMessage('c', write(`f${i}`, messageId), 2 + i)
      return persistOf(engine.flush(2 + i)).batchId
    })
    const [b1, b2, b3] = batches as [number, number, number]
    expect(acked(engine.resolve({ kind: 'persisted', batchId: b2 }, 10))).toEqual(['w2'])
    expect(acked(engine.resolve({ kind: 'persisted', batchId: b3 }, 11))).toEqual(['w3'])
    expect(acked(engine.resolve({ kind: 'persisted', batchId: b2 }, 12))).toEqual([])
    expect(acked(engine.resolve({ kind: 'persisted', batchId: 999 }, 13))).toEqual([])
    expect(acked(engine.resolve({ kind: 'persisted', batchId: b1 }, 14))).toEqual(['w1'])
    expect(engine.stats().pendingPersistBatches).toBe(0)
  })

  // engine-convergence (seed 253397321, run 8297): two failed batches in a row lost the newer
  // write, because the retry kept whichever register of the field had been re-queued first.
  it('retries the newest register of a field when batches fail out of order', () => {
    const engine = engineWithSubscriber()
    const valueWrite = (value: number, messageId: string): ClientMessage => ({
      type: 'delta',
      timestamp: 1,
      documentId: 'doc',
      writes: [{ field: 'title', value, deleted: false }],
      messageId,
    })
    engine.receiveMessage('c', valueWrite(1, 'w1'), 2)
    const older = persistOf(engine.flush(2))
    engine.receiveMessage('c', valueWrite(2, 'w2'), 3)
    const newer = persistOf(engine.flush(3))
    engine.resolve({ kind: 'persist-failed', batchId: older.batchId, error: 'down' }, 4)
    engine.resolve({ kind: 'persist-failed', batchId: newer.batchId, error: 'down' }, 5)
    const retry = persistOf(engine.flush(6))
    expect(retry.documents[0]?.registers.map((r) => [r.field, r.value])).toEqual([['title', 2]])
    expect(engine.documentState('doc')).toEqual({ title: 2 })
  })

  it('hands listeners an array of their own, not the one being persisted', () => {
    const engine = engineWithSubscriber()
    engine.receiveMessage('c', write('a', 'w1'), 2)
    const effects = engine.flush(2)
    const change = effects.find((e) => e.kind === 'emit' && e.event.type === 'document-change')
    if (change?.kind !== 'emit' || change.event.type !== 'document-change') throw new Error('no event')
    change.event.registers.length = 0
    expect(persistOf(effects).documents[0]?.registers.map((r) => r.field)).toEqual(['a'])
  })

  it('echoes to every subscriber of the moment, also after the membership changed', () => {
    const engine = engineWithSubscriber()
    engine.receiveMessage('c', write('a'), 2)
    const before = engine.flush(2).find((e) => e.kind === 'send' && e.message.type === 'delta')
    engine.open('d', 3)
    engine.receiveMessage('d', { type: 'subscribe', timestamp: 3, documentId: 'doc' }, 3)
    engine.receiveMessage('c', write('b'), 4)
    const after = engine.flush(4).find((e) => e.kind === 'send' && e.message.type === 'delta')
    expect(before?.kind === 'send' && [...before.to]).toEqual(['c'])
    expect(after?.kind === 'send' && [...after.to]).toEqual(['c', 'd'])
  })
})
