import { describe, expect, it } from 'vitest'
import type { Principal } from '../../src/engine/types.js'
import { EngineHarness } from '../helpers/engine-harness.js'

/**
 * `SyncEngine.resume`: a connection that outlived a restart of the server (a Durable Object woken
 * from hibernation) comes back authenticated, in its format, subscribed, and is told nothing.
 */

const ALICE: Principal = {
  userId: 'alice',
  permissions: { canRead: ['doc-*'], canWrite: ['doc-*'], isAdmin: false },
  via: 'token',
}

/** A server that already holds `doc-1` = {title: 'before'}, written by `writer`. */
function restartedServer(options: { autoSettle?: boolean } = {}): EngineHarness {
  const before = new EngineHarness({ nodeId: 'node-a' })
  before.open('writer')
  before.send('writer', 'delta', { documentId: 'doc-1', delta: { title: 'before' }, messageId: 'w0' })
  return new EngineHarness({ nodeId: 'node-a', store: before.store, ...options })
}

describe('SyncEngine.resume', () => {
  it('sends nothing, then echoes later writes to the resumed connection in its own format', () => {
    const h = restartedServer()
    h.inbox.set('back', [])
    h.apply(h.engine.resume('back', h.now, { principal: ALICE, format: 'json', documents: ['doc-1'] }))
    h.flush()
    expect(h.messages('back')).toEqual([])
    expect(h.engine.wireFormat('back')).toBe('json')
    expect(h.engine.stats()).toMatchObject({ authenticatedConnections: 1, subscriptions: 1 })

    h.open('other')
    h.send('other', 'delta', { documentId: 'doc-1', delta: { title: 'after' }, messageId: 'w1' })
    const echoes = h.ofType('back', 'delta')
    expect(echoes.map((echo) => [echo.field, echo.value])).toEqual([['title', 'after']])
    expect(h.engine.documentState('doc-1')).toEqual({ title: 'after' })
  })

  it('holds a subscriber of a document that is still loading: a write parked meanwhile reaches it', () => {
    const h = restartedServer({ autoSettle: false })
    h.inbox.set('back', [])
    h.apply(h.engine.resume('back', h.now, { principal: ALICE, format: 'binary', documents: ['doc-1'] }))
    h.open('other')
    h.send('other', 'delta', { documentId: 'doc-1', delta: { late: 1 }, messageId: 'w1' })
    expect(h.engine.documentState('doc-1')).toBeUndefined() // still loading
    h.settle()
    expect(h.ofType('back', 'delta').map((echo) => [echo.field, echo.value])).toEqual([['late', 1]])
    expect(h.ofType('back', 'sync_response')).toEqual([])
  })

  it('acts as the resumed principal: writes it may do are applied, others refused', () => {
    const h = restartedServer()
    h.inbox.set('back', [])
    h.apply(h.engine.resume('back', h.now, { principal: ALICE, documents: ['doc-1'] }))
    h.send('back', 'delta', { documentId: 'doc-1', delta: { mine: true }, messageId: 'ok' })
    h.send('back', 'delta', { documentId: 'secret', delta: { mine: true }, messageId: 'no' })
    expect(h.ofType('back', 'ack').map((ack) => ack.messageId)).toEqual(['ok'])
    expect(h.ofType('back', 'error').map((error) => error.details?.code)).toEqual(['PERMISSION_DENIED'])
    expect(h.engine.documentState('doc-1')).toEqual({ title: 'before', mine: true })
  })

  it('subscribes again only to valid documents the principal may still read', () => {
    const h = restartedServer()
    h.inbox.set('back', [])
    const documents = ['doc-1', 'secret', 'bad id', '']
    h.apply(h.engine.resume('back', h.now, { principal: ALICE, documents }))
    h.flush()
    expect(h.engine.stats().subscriptions).toBe(1)
    expect(h.engine.documentIds()).toEqual(['doc-1'])
    expect(h.messages('back')).toEqual([])
  })

  it('closes a resumed subscriber whose document cannot be loaded, so it reconnects and resyncs', () => {
    const h = restartedServer({ autoSettle: false })
    h.inbox.set('back', [])
    h.apply(h.engine.resume('back', h.now, { principal: ALICE, format: 'json', documents: ['doc-1'] }))
    expect(h.pending.map((resolution) => resolution.kind)).toEqual(['loaded'])
    h.pending.splice(0)
    h.resolve({ kind: 'load-failed', documentId: 'doc-1', error: 'store unavailable' })
    expect(h.ofType('back', 'error').map((error) => error.details?.code)).toEqual(['LOAD_FAILED'])
    expect(h.closed.get('back')).toEqual({ code: 1013, reason: 'Document unavailable; reconnect to resync' })
    expect(h.engine.stats()).toMatchObject({ connections: 0, subscriptions: 0 })
  })
})
