import { describe, expect, it } from 'vitest'
import type { Effect } from '../../src/engine/types.js'
import { EngineHarness } from '../helpers/engine-harness.js'

/** The engine's inspector queries (`documentSubscribers`, `evictionBlocker`) and the `evict` input. */

const evicted = (effects: readonly Effect[]) =>
  effects.some((effect) => effect.kind === 'emit' && effect.event.type === 'document-evicted')

describe('documentSubscribers', () => {
  it('lists each subscriber with its user, encoding and dialect', () => {
    const h = new EngineHarness()
    h.open('sdk')
    h.open('legacy')
    h.send('sdk', 'subscribe', { documentId: 'doc' })
    h.send('legacy', 'sync_request', { documentId: 'doc' }, 'json')
    expect(h.engine.documentSubscribers('doc')).toEqual([
      { connectionId: 'sdk', userId: 'anonymous', format: 'binary', dialect: 'sdk' },
      { connectionId: 'legacy', userId: 'anonymous', format: 'json', dialect: 'legacy' },
    ])
    h.close('legacy')
    expect(h.engine.documentSubscribers('doc').map((s) => s.connectionId)).toEqual(['sdk'])
    expect(h.engine.documentSubscribers('elsewhere')).toEqual([])
  })
})

describe('evict', () => {
  it('keeps a document that is watched or holds writes the store has not committed, and drops it once clean', () => {
    const h = new EngineHarness({ autoSettle: false, commitOnSettle: true })
    h.open('c')
    h.send('c', 'subscribe', { documentId: 'doc' })
    h.settle()
    h.send('c', 'delta', { documentId: 'doc', field: 'title', value: 'kept' })
    expect(h.engine.evictionBlocker('doc')).toBe('subscribed')
    expect(evicted(h.engine.evict('doc', h.now))).toBe(false)

    h.send('c', 'unsubscribe', { documentId: 'doc' })
    // The write is in a persist batch the store has not committed: evicting would lose it.
    expect(h.store.get('doc')?.registers.some((r) => r.field === 'title')).not.toBe(true)
    expect(h.engine.evictionBlocker('doc')).toBe('unflushed')
    expect(evicted(h.engine.evict('doc', h.now))).toBe(false)
    expect(h.engine.documentIds()).toContain('doc')

    h.settle()
    expect(h.engine.evictionBlocker('doc')).toBeUndefined()
    const effects = h.engine.evict('doc', h.now)
    expect(evicted(effects)).toBe(true)
    expect(effects).toContainEqual({ kind: 'unsubscribe-topic', documentId: 'doc' })
    expect(h.engine.documentIds()).not.toContain('doc')
    expect(h.engine.evictionBlocker('doc')).toBe('not-loaded')

    // The next use loads it from the store, with the write.
    h.send('c', 'subscribe', { documentId: 'doc' })
    h.settle()
    expect(h.engine.documentState('doc')).toEqual({ title: 'kept' })
  })

  it('keeps a document whose persist batch failed until a retry commits it', () => {
    const h = new EngineHarness({ autoSettle: false, commitOnSettle: true })
    h.open('c')
    h.send('c', 'subscribe', { documentId: 'doc' })
    h.settle()
    h.send('c', 'delta', { documentId: 'doc', field: 'title', value: 'retried' })
    h.send('c', 'unsubscribe', { documentId: 'doc' })
    expect(h.failPersist()).toBe(true)
    expect(h.engine.evictionBlocker('doc')).toBe('unflushed')
    expect(evicted(h.engine.evict('doc', h.now))).toBe(false)
    h.flush()
    h.settle()
    expect(h.store.get('doc')?.registers.map((r) => r.value)).toEqual(['retried'])
    expect(h.engine.evictionBlocker('doc')).toBeUndefined()
  })

  it('does nothing to a document that is not in memory or still loading', () => {
    const h = new EngineHarness({ autoSettle: false })
    expect(h.engine.evictionBlocker('never')).toBe('not-loaded')
    expect(h.engine.evict('never', h.now)).toEqual([])
    h.open('c')
    h.send('c', 'subscribe', { documentId: 'loading' })
    expect(h.engine.evictionBlocker('loading')).toBe('not-loaded')
    expect(evicted(h.engine.evict('loading', h.now))).toBe(false)
  })
})
