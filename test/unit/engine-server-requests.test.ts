import { describe, expect, it } from 'vitest'
import { MAX_UNCOMMITTED_CHANGES } from '../../src/engine/changes.js'
import { SyncEngine } from '../../src/engine/index.js'
import type {
  Effect,
  EngineEvent,
  PersistEffect,
  ServerReplyEffect,
  ServerRequest,
} from '../../src/engine/types.js'
import type { ClientMessage } from '../../src/protocol/types.js'

/** The server-side document API as an engine input: `serverRequest` and its `server-reply`. */

function newEngine(options: { durableAcks?: boolean } = {}): SyncEngine {
  let id = 0
  return new SyncEngine({
    nodeId: 'n',
    anonymous: true,
    durableAcks: options.durableAcks ?? false,
    resendFieldsOnSubscribe: false,
    newId: () => `s${++id}`,
  })
}

const empty = (documentId: string) => ({
  kind: 'loaded' as const,
  snapshot: { documentId, registers: [], clock: {} },
})

const write = (
  id: number,
  documentId: string,
  set: Record<string, number>,
  actor = 'server',
): ServerRequest => ({
  op: 'write',
  id,
  documentId,
  actor,
  writes: Object.entries(set).map(([field, value]) => ({ field, value, deleted: false })),
})

const replies = (effects: Effect[]): ServerReplyEffect[] =>
  effects.filter((e): e is ServerReplyEffect => e.kind === 'server-reply')
const persistOf = (effects: Effect[]): PersistEffect => {
  const persist = effects.find((e): e is PersistEffect => e.kind === 'persist')
  if (!persist) throw new Error('no persist effect')
  return persist
}
const events = (effects: Effect[], type: EngineEvent['type']): EngineEvent[] =>
  effects.flatMap((e) => (e.kind === 'emit' && e.event.type === type ? [e.event] : []))

/** `c` subscribed to a loaded, empty `doc`. */
function withSubscriber(engine: SyncEngine): void {
  engine.open('c', 1)
  const subscribe: ClientMessage = { type: 'subscribe', timestamp: 1, documentId: 'doc' }
  engine.receiveMessage('c', subscribe, 1)
  engine.resolve(empty('doc'), 1)
  engine.flush(1)
}

describe('engine: server writes', () => {
  it('parks while the document loads, then applies, echoes, and replies only with its persist batch', () => {
    const engine = newEngine()
    const first = engine.serverRequest(write(1, 'doc', { a: 1 }), 1)
    expect(first.map((e) => e.kind)).toEqual(['subscribe-topic', 'load'])
    expect(replies(engine.resolve(empty('doc'), 2))).toEqual([])
    const flushed = engine.flush(2)
    expect(replies(flushed)).toEqual([])
    const persist = persistOf(flushed)
    expect(persist.documents[0]?.registers.map((r) => r.field)).toEqual(['a'])
    const done = engine.resolve({ kind: 'persisted', batchId: persist.batchId }, 3)
    const [reply] = replies(done)
    expect(reply?.id).toBe(1)
    expect(reply?.reply).toMatchObject({ ok: true, snapshot: { documentId: 'doc' } })
    expect(events(done, 'document-committed')).toHaveLength(1)
  })

  it('replies with the batch even without durable client acks, and echoes to subscribers', () => {
    const engine = newEngine({ durableAcks: false })
    withSubscriber(engine)
    engine.serverRequest(write(7, 'doc', { title: 1 }, 'job'), 2)
    const flushed = engine.flush(2)
    const echo = flushed.find((e) => e.kind === 'send' && e.message.type === 'delta')
    expect(echo).toMatchObject({ to: ['c'], message: { field: 'title', value: 1, clientId: 'server' } })
    const [change] = events(flushed, 'document-change')
    expect(change).toMatchObject({ actor: { kind: 'server', name: 'job' }, origin: 'local' })
    expect(replies(flushed)).toEqual([])
    expect(
      replies(engine.resolve({ kind: 'persisted', batchId: persistOf(flushed).batchId }, 3)),
    ).toHaveLength(1)
  })

  it('a failed batch rejects with STORE_FAILED; its change is committed with the retry', () => {
    const engine = newEngine()
    withSubscriber(engine)
    engine.serverRequest(write(1, 'doc', { a: 1 }), 2)
    const first = persistOf(engine.flush(2))
    const failed = engine.resolve({ kind: 'persist-failed', batchId: first.batchId, error: 'down' }, 3)
    expect(replies(failed)[0]?.reply).toEqual({
      ok: false,
      code: 'STORE_FAILED',
      message: 'Write not persisted: down',
    })
    expect(events(failed, 'document-committed')).toEqual([])
    const retry = persistOf(engine.flush(4))
    expect(retry.documents[0]?.registers.map((r) => r.field)).toEqual(['a'])
    const committed = events(
      engine.resolve({ kind: 'persisted', batchId: retry.batchId }, 5),
      'document-committed',
    )
    expect(committed).toHaveLength(1)
  })
})

describe('engine: server deletes', () => {
  it('wait for the batch in flight, then tell subscribers and the cluster', () => {
    const engine = newEngine()
    withSubscriber(engine)
    engine.serverRequest(write(1, 'doc', { a: 1 }), 2)
    const batch = persistOf(engine.flush(2))
    const asked = engine.serverRequest({ op: 'delete', id: 2, documentId: 'doc', actor: 'admin' }, 3)
    expect(asked.some((e) => e.kind === 'delete')).toBe(false)
    // A write meanwhile waits for the delete, and is not flushed.
    engine.serverRequest(write(3, 'doc', { b: 2 }), 3)
    expect(engine.flush(3).some((e) => e.kind === 'persist')).toBe(false)
    const settled = engine.resolve({ kind: 'persisted', batchId: batch.batchId }, 4)
    expect(settled.filter((e) => e.kind === 'delete')).toEqual([{ kind: 'delete', documentId: 'doc' }])
    const deleted = engine.resolve({ kind: 'deleted', documentId: 'doc', existed: true }, 5)
    const error = deleted.find((e) => e.kind === 'send' && e.message.type === 'error')
    expect(error).toMatchObject({
      to: ['c'],
      message: { details: { code: 'DOCUMENT_DELETED', documentId: 'doc' } },
    })
    expect(replies(deleted).find((r) => r.id === 2)?.reply).toEqual({ ok: true, existed: true })
    expect(deleted).toContainEqual({ kind: 'publish-delete', documentId: 'doc' })
    expect(events(deleted, 'document-deleted')).toEqual([
      { type: 'document-deleted', documentId: 'doc', origin: 'local', actor: 'admin' },
    ])
    // The waiting write starts a fresh document, which `c` no longer follows.
    expect(deleted.some((e) => e.kind === 'load' && e.documentId === 'doc')).toBe(true)
    engine.resolve(empty('doc'), 6)
    const fresh = engine.flush(6)
    expect(fresh.some((e) => e.kind === 'send' && e.message.type === 'delta')).toBe(false)
    expect(persistOf(fresh).documents[0]?.registers.map((r) => r.field)).toEqual(['b'])
  })

  it('a failed delete leaves the document as it was', () => {
    const engine = newEngine()
    withSubscriber(engine)
    engine.serverRequest(write(1, 'doc', { a: 1 }), 2)
    engine.resolve({ kind: 'persisted', batchId: persistOf(engine.flush(2)).batchId }, 2)
    engine.serverRequest({ op: 'delete', id: 2, documentId: 'doc', actor: 'server' }, 3)
    const failed = engine.resolve({ kind: 'delete-failed', documentId: 'doc', error: 'down' }, 4)
    expect(replies(failed)[0]?.reply).toMatchObject({ ok: false, code: 'STORE_FAILED' })
    expect(failed.some((e) => e.kind === 'send' && e.message.type === 'error')).toBe(false)
    expect(engine.documentState('doc')).toEqual({ a: 1 })
    const read = replies(engine.serverRequest({ op: 'read', id: 3, documentId: 'doc' }, 5))
    expect(read[0]?.reply).toMatchObject({ ok: true, snapshot: { documentId: 'doc' } })
  })

  it("another node's delete drops the document here and tells its subscribers", () => {
    const engine = newEngine()
    withSubscriber(engine)
    const dropped = engine.resolve({ kind: 'remote-deleted', documentId: 'doc' }, 2)
    expect(dropped.some((e) => e.kind === 'send' && e.message.type === 'error')).toBe(true)
    expect(dropped).toContainEqual({ kind: 'unsubscribe-topic', documentId: 'doc' })
    expect(events(dropped, 'document-deleted')).toEqual([
      { type: 'document-deleted', documentId: 'doc', origin: 'remote' },
    ])
    expect(engine.documentState('doc')).toBeUndefined()
  })
})

describe('engine: changes kept through a store outage', () => {
  it('stay bounded: the changes of many failed batches are merged past a bound, and their latest values survive', () => {
    const engine = newEngine()
    withSubscriber(engine)
    let now = 2
    for (let i = 0; i < 400; i++) {
      engine.serverRequest(write(i, 'doc', { [`f${i % 3}`]: i }, i % 2 === 0 ? 'even' : 'odd'), now)
      const batch = persistOf(engine.flush(now))
      engine.resolve({ kind: 'persist-failed', batchId: batch.batchId, error: 'down' }, now)
      now++
    }
    const last = persistOf(engine.flush(now))
    const committed = events(
      engine.resolve({ kind: 'persisted', batchId: last.batchId }, now),
      'document-committed',
    )
    // Merged when they passed the bound, then the outage went on: never more than the bound.
    expect(committed.length).toBeGreaterThan(1)
    expect(committed.length).toBeLessThanOrEqual(MAX_UNCOMMITTED_CHANGES + 1)
    const latest = new Map<string, unknown>()
    for (const event of committed) {
      if (event.type !== 'document-committed') continue
      for (const register of event.change.registers) latest.set(register.field, register.value)
    }
    expect(Object.fromEntries(latest)).toEqual({ f0: 399, f1: 397, f2: 398 })
  })
})
