/**
 * Work that must stay proportional to what a connection holds, not to what the node holds: a
 * disconnect storm of N connections on a node with D documents must not cost N x D. Counted in
 * document visits (deterministic), never in wall time.
 */
import { describe, expect, it } from 'vitest'
import { EngineContext } from '../../src/engine/context.js'
import { DocumentIds } from '../../src/engine/document-ids.js'
import { startLoad } from '../../src/engine/documents.js'
import { connectionClosed, openConnection, tickEngine } from '../../src/engine/lifecycle.js'
import type { DocumentEntry } from '../../src/engine/state.js'
import { subscribe } from '../../src/engine/subscriptions.js'
import { EngineHarness } from '../helpers/engine-harness.js'

/** A document map that counts every entry it hands out, by lookup or by iteration. */
class CountingMap extends Map<string, DocumentEntry> {
  visits = 0

  override get(key: string): DocumentEntry | undefined {
    const entry = super.get(key)
    if (entry) this.visits++
    return entry
  }

  override *values(): MapIterator<DocumentEntry> {
    for (const entry of super.values()) {
      this.visits++
      yield entry
    }
  }

  override *entries(): MapIterator<[string, DocumentEntry]> {
    for (const pair of super.entries()) {
      this.visits++
      yield pair
    }
  }

  override [Symbol.iterator](): MapIterator<[string, DocumentEntry]> {
    return this.entries()
  }

  override forEach(
    callback: (value: DocumentEntry, key: string, map: Map<string, DocumentEntry>) => void,
  ): void {
    for (const [key, value] of this.entries()) callback(value, key, this)
  }
}

function contextWithDocuments(count: number): { ctx: EngineContext; documents: CountingMap } {
  let ids = 0
  const ctx = new EngineContext({
    nodeId: 'node-a',
    anonymous: true,
    durableAcks: true,
    resendFieldsOnSubscribe: false,
    newId: () => `m${++ids}`,
  })
  const documents = new CountingMap()
  Object.defineProperty(ctx, 'documents', { value: documents })
  // Loading documents are the ones the old close path filtered, one by one.
  for (let i = 0; i < count; i++) startLoad(ctx, `doc-${i}`)
  ctx.drain()
  return { ctx, documents }
}

/** The default `maxIdleDocuments` (1,000): a node this size never walks its documents on a tick. */
const IDLE_LIMIT = 1_000

describe('engine scaling', () => {
  it('closing a connection visits only the documents it watches, however many the node holds', () => {
    const { ctx, documents } = contextWithDocuments(2_000)
    const connections = 200
    for (let i = 0; i < connections; i++) {
      openConnection(ctx, `c${i}`, undefined)
      const connection = ctx.connections.get(`c${i}`)
      const entry = ctx.documents.get(`doc-${i % 2_000}`)
      if (!connection || !entry) throw new Error('setup failed')
      subscribe(ctx, connection, entry)
    }
    ctx.drain()
    documents.visits = 0
    for (let i = 0; i < connections; i++) connectionClosed(ctx, `c${i}`)
    expect(ctx.connections.size).toBe(0)
    // One subscription each: a few visits per connection, not 2,000.
    expect(documents.visits).toBeLessThanOrEqual(connections * 4)
    expect(documents.get('doc-0')?.subscribers.size).toBe(0)
  })

  it('a read parked by a connection that closed is not answered; its parked write still applies', () => {
    const h = new EngineHarness({ autoSettle: false })
    h.open('a')
    h.open('b')
    h.send('a', 'sync_request', { id: 'r1', documentId: 'doc' })
    h.send('a', 'subscribe', { documentId: 'doc' })
    h.send('a', 'delta', { id: 'd1', documentId: 'doc', delta: { title: 'kept' }, vectorClock: {} })
    h.send('b', 'subscribe', { documentId: 'doc' })
    h.close('a')
    const before = h.effects.length
    h.settle()
    h.flush()
    const after = h.effects.slice(before)
    expect(after.some((e) => e.kind === 'send' && e.to.includes('a'))).toBe(false)
    expect(
      after.some((e) => e.kind === 'emit' && e.event.type === 'subscribed' && e.event.conn === 'a'),
    ).toBe(false)
    expect(h.engine.documentState('doc')).toEqual({ title: 'kept' })
    expect(h.ofType('b', 'sync_response')).toHaveLength(1)
  })

  it('a tick walks no document while the node holds fewer than maxIdleDocuments', () => {
    const { ctx, documents } = contextWithDocuments(IDLE_LIMIT)
    documents.visits = 0
    tickEngine(ctx)
    expect(documents.visits).toBe(0)
    // One more than may be kept: the idle ones are looked at (all loading here: none evicted).
    for (let i = IDLE_LIMIT; i <= ctx.limits.maxIdleDocuments; i++) startLoad(ctx, `doc-${i}`)
    documents.visits = 0
    tickEngine(ctx)
    expect(documents.visits).toBeGreaterThan(ctx.limits.maxIdleDocuments)
    expect(documents.size).toBe(ctx.limits.maxIdleDocuments + 1)
  })

  it('DocumentIds behaves as a set from none to one to many and back', () => {
    const ids = new DocumentIds()
    expect([ids.size, ids.has('a'), ids.delete('a'), [...ids]]).toEqual([0, false, false, []])
    ids.add('a')
    ids.add('a')
    expect([ids.size, ids.has('a'), ids.has('b'), [...ids]]).toEqual([1, true, false, ['a']])
    ids.add('b')
    ids.add('c')
    expect([ids.size, [...ids]]).toEqual([3, ['a', 'b', 'c']])
    expect(ids.delete('b')).toBe(true)
    expect(ids.delete('b')).toBe(false)
    expect([ids.size, [...ids], ids.has('c')]).toEqual([2, ['a', 'c'], true])
    ids.delete('a')
    ids.delete('c')
    expect([ids.size, [...ids]]).toEqual([0, []])
    const single = new DocumentIds()
    single.add('x')
    expect(single.delete('x')).toBe(true)
    expect([single.size, [...single]]).toEqual([0, []])
  })
})
