import { describe, expect, it } from 'vitest'
import type { Principal } from '../../src/engine/types.js'
import { EngineHarness } from '../helpers/engine-harness.js'

const alice: Principal = {
  userId: 'alice',
  permissions: { canRead: ['room:*'], canWrite: ['room:alice:*'], isAdmin: false },
  via: 'token',
}

function authHarness(extra: ConstructorParameters<typeof EngineHarness>[0] = {}) {
  return new EngineHarness({
    anonymous: false,
    authenticate: (token) => (token === 'good' ? alice : null),
    ...extra,
  })
}

describe('engine: authentication', () => {
  it('auth without credentials when auth is required: error AUTH_REQUIRED then close 1008', () => {
    const h = authHarness()
    h.open('c')
    h.send('c', 'auth', { id: 'a' })
    expect(h.ofType('c', 'error')[0]).toMatchObject({
      error: 'Authentication required',
      details: { code: 'AUTH_REQUIRED' },
    })
    expect(h.closed.get('c')).toEqual({ code: 1008, reason: 'Authentication required' })
  })

  it('a good token answers auth_success with userId and permissions', () => {
    const h = authHarness()
    h.open('c')
    h.send('c', 'auth', { token: 'good' })
    expect(h.ofType('c', 'auth_success')[0]).toMatchObject({
      userId: 'alice',
      permissions: { canRead: ['room:*'], canWrite: ['room:alice:*'], isAdmin: false },
    })
  })

  it('a bad token answers auth_error "Authentication failed" and closes 1008', () => {
    const h = authHarness()
    h.open('c')
    h.send('c', 'auth', { token: 'forged' })
    expect(h.ofType('c', 'auth_error')[0]).toMatchObject({ error: 'Authentication failed' })
    expect(h.closed.get('c')).toEqual({ code: 1008, reason: 'Authentication failed' })
  })

  it('frames sent before auth are buffered and replayed in order after auth_success', () => {
    const h = authHarness({ autoSettle: false })
    h.open('c')
    h.send('c', 'subscribe', { documentId: 'room:alice:1' })
    h.send('c', 'auth', { token: 'good' })
    expect(h.ofType('c', 'sync_response')).toHaveLength(0)
    h.settle()
    const types = h.messages('c').map((m) => m.type)
    expect(types.indexOf('auth_success')).toBeLessThan(types.indexOf('sync_response'))
  })

  it('closes an unauthenticated connection at the auth deadline', () => {
    const h = authHarness({ limits: { authTimeoutMs: 5_000 } })
    h.open('c')
    h.tick(4_999)
    expect(h.closed.has('c')).toBe(false)
    h.tick(1)
    expect(h.closed.get('c')).toEqual({ code: 1008, reason: 'Authentication timeout' })
    expect(h.ofType('c', 'error')[0]).toMatchObject({ details: { code: 'AUTH_TIMEOUT' } })
  })

  // SDK 0.1.1 subscribes to every registered document on open, before its `auth` (docs/protocol.md §4.3).
  it('with the default limits, an SDK app with 300 documents reconnects to an auth-required server', () => {
    const h = authHarness()
    h.open('c')
    for (let i = 0; i < 300; i++) h.send('c', 'subscribe', { documentId: `room:doc-${i}` })
    h.send('c', 'auth', { token: 'good' })
    expect(h.closed.has('c')).toBe(false)
    expect(h.ofType('c', 'sync_response')).toHaveLength(300)
  })

  it('caps the documents named before authentication at maxDocumentsPerConnection', () => {
    const h = authHarness({ limits: { maxDocumentsPerConnection: 3 } })
    h.open('c')
    for (let i = 0; i < 3; i++) h.send('c', 'subscribe', { documentId: `room:${i}` })
    // More frames about the same documents are fine; a fourth document is not.
    h.send('c', 'sync_request', { documentId: 'room:0' })
    expect(h.closed.has('c')).toBe(false)
    h.send('c', 'subscribe', { documentId: 'room:3' })
    expect(h.ofType('c', 'error').at(-1)).toMatchObject({
      error: 'Too many documents before authentication',
      details: { code: 'AUTH_REQUIRED' },
    })
    expect(h.closed.get('c')).toEqual({ code: 1008, reason: 'Authentication required' })
  })

  it('caps frames buffered before authentication', () => {
    const h = authHarness({ limits: { maxPreAuthFrames: 3 } })
    h.open('c')
    for (let i = 0; i < 4; i++) h.send('c', 'subscribe', { documentId: `room:${i}` })
    expect(h.closed.get('c')?.code).toBe(1008)
  })

  it('an expired token is told TOKEN_EXPIRED and may re-authenticate in band', () => {
    const expiring: Principal = { ...alice, expiresAt: 1_000_000 + 60_000 }
    let next: Principal = expiring
    const h = new EngineHarness({
      anonymous: false,
      authenticate: () => next,
      limits: { authTimeoutMs: 10_000 },
    })
    h.open('c')
    h.send('c', 'auth', { token: 't1' })
    h.tick(60_000)
    expect(h.ofType('c', 'auth_error').at(-1)).toMatchObject({
      error: 'Token expired',
      details: { code: 'TOKEN_EXPIRED' },
    })
    expect(h.closed.has('c')).toBe(false)
    next = { ...alice, expiresAt: h.now + 3_600_000 }
    h.send('c', 'auth', { token: 't2' })
    h.tick(20_000)
    expect(h.closed.has('c')).toBe(false)
    h.send('c', 'subscribe', { documentId: 'room:alice:x' })
    expect(h.ofType('c', 'sync_response')).toHaveLength(1)
  })

  it('an expired token not renewed in time closes the connection', () => {
    const h = new EngineHarness({
      anonymous: false,
      authenticate: () => ({ ...alice, expiresAt: 1_000_000 + 1_000 }),
      limits: { authTimeoutMs: 5_000 },
    })
    h.open('c')
    h.send('c', 'auth', { token: 't' })
    h.tick(1_000)
    h.tick(5_000)
    expect(h.closed.get('c')).toEqual({ code: 1008, reason: 'Token expired' })
  })

  it('anonymous mode: auth without token answers auth_success without closing', () => {
    const h = new EngineHarness({ anonymous: true })
    h.open('c')
    h.send('c', 'auth', { id: 'x' })
    expect(h.ofType('c', 'auth_success')[0]).toMatchObject({ userId: 'anonymous' })
    expect(h.closed.size).toBe(0)
  })
})

describe('engine: authorization (RBAC)', () => {
  function authed() {
    const h = authHarness()
    h.open('c')
    h.send('c', 'auth', { token: 'good' })
    h.take('c')
    return h
  }

  it('denies reads outside the patterns with Permission denied and the documentId', () => {
    const h = authed()
    h.send('c', 'subscribe', { documentId: 'secret' })
    expect(h.ofType('c', 'error')[0]).toMatchObject({
      error: 'Permission denied',
      details: { code: 'PERMISSION_DENIED', documentId: 'secret' },
    })
    expect(h.ofType('c', 'sync_response')).toHaveLength(0)
  })

  it('prefix patterns grant read; writes need a write pattern; write implies read', () => {
    const h = authed()
    h.send('c', 'subscribe', { documentId: 'room:bob:1' })
    expect(h.ofType('c', 'sync_response')).toHaveLength(1)
    h.send('c', 'delta', { documentId: 'room:bob:1', field: 'f', value: 1, messageId: 'm' })
    expect(h.ofType('c', 'error').at(-1)).toMatchObject({ error: 'Permission denied' })
    expect(h.ofType('c', 'ack')).toHaveLength(0)
    h.send('c', 'delta', { documentId: 'room:alice:1', field: 'f', value: 1, messageId: 'm2' })
    expect(h.ofType('c', 'ack').at(-1)).toMatchObject({ messageId: 'm2' })
  })

  it('awareness requires read access too', () => {
    const h = authed()
    h.send('c', 'awareness_subscribe', { documentId: 'secret' })
    h.send('c', 'awareness_update', { documentId: 'secret', clientId: 'x', state: { a: 1 }, clock: 1 })
    expect(h.ofType('c', 'error').map((e) => e.error)).toEqual(['Permission denied', 'Permission denied'])
    expect(h.ofType('c', 'awareness_state')).toHaveLength(0)
  })

  it('a field-level policy refusal answers an error and rolls the writer back', () => {
    const h = new EngineHarness({
      authorize: ({ field }) => field !== 'locked',
    })
    h.open('a')
    h.send('a', 'subscribe', { documentId: 'doc' })
    h.send('a', 'delta', { documentId: 'doc', delta: { open: 1, locked: 2 }, messageId: 'm' })
    const error = h.ofType('a', 'error')[0]
    expect(error).toMatchObject({ error: 'Permission denied', details: { field: 'locked' } })
    const rollback = h.ofType('a', 'delta').find((d) => d.field === 'locked')
    expect(rollback?.value).toEqual({ __deleted: true })
    expect(h.engine.documentState('doc')).toEqual({ open: 1 })
  })
})

describe('engine: rate limit', () => {
  it('answers RATE_LIMIT_EXCEEDED over the budget but still answers ping', () => {
    const h = new EngineHarness({ limits: { maxMessagesPerMinute: 3 } })
    h.open('c')
    for (let i = 0; i < 4; i++) h.send('c', 'subscribe', { documentId: `d${i}` })
    expect(h.ofType('c', 'error').at(-1)).toMatchObject({
      error: 'Too many messages. Please slow down.',
      details: { code: 'RATE_LIMIT_EXCEEDED' },
    })
    h.send('c', 'ping', {})
    expect(h.ofType('c', 'pong')).toHaveLength(1)
    h.tick(20_000)
    h.send('c', 'subscribe', { documentId: 'later' })
    expect(h.ofType('c', 'sync_response').map((r) => r.documentId)).toContain('later')
  })
})

describe('engine: revocation', () => {
  it('revoke({userId}) closes every connection of that user with 1008', () => {
    const h = authHarness()
    for (const conn of ['c1', 'c2']) {
      h.open(conn)
      h.send(conn, 'auth', { token: 'good' })
    }
    h.open('other')
    h.send('other', 'auth', { token: 'good' })
    h.closed.clear()
    const effects = h.engine.revoke({ userId: 'alice' }, h.now)
    const closes = effects.filter((e) => e.kind === 'close').map((e) => (e.kind === 'close' ? e.conn : ''))
    expect(closes.sort()).toEqual(['c1', 'c2', 'other'])
  })

  it('revoke({documentId}) re-asks the policy and drops subscribers no longer allowed', () => {
    const allowed = new Set(['a', 'b'])
    const h = new EngineHarness({
      anonymous: false,
      authenticate: (token) => ({
        userId: token ?? '',
        permissions: { canRead: [], canWrite: [], isAdmin: false },
      }),
      authorize: ({ principal }) => allowed.has(principal.userId),
    })
    for (const user of ['a', 'b']) {
      h.open(user)
      h.send(user, 'auth', { token: user })
      h.send(user, 'subscribe', { documentId: 'doc' })
    }
    allowed.delete('b')
    h.resolve({ kind: 'persisted', batchId: -1 })
    const effects = h.engine.revoke({ documentId: 'doc' }, h.now)
    const errors = effects.filter((e) => e.kind === 'send' && e.message.type === 'error')
    expect(errors).toHaveLength(1)
    expect(h.engine.documentInfo('doc')?.subscribers).toBe(1)
    h.send('a', 'delta', { documentId: 'doc', field: 'f', value: 1 })
    expect(h.ofType('b', 'delta')).toHaveLength(0)
  })
})

describe('engine: per-user rate limit', () => {
  it('shares one budget across the connections of an authenticated user', () => {
    const h = authHarness({ limits: { maxMessagesPerMinute: 100, maxMessagesPerMinutePerUser: 4 } })
    for (const conn of ['c1', 'c2']) {
      h.open(conn)
      h.send(conn, 'auth', { token: 'good' })
    }
    for (let i = 0; i < 3; i++) h.send('c1', 'subscribe', { documentId: `room:${i}` })
    h.send('c2', 'subscribe', { documentId: 'room:x' })
    expect(h.ofType('c2', 'error')).toHaveLength(0)
    h.send('c2', 'subscribe', { documentId: 'room:y' })
    expect(h.ofType('c2', 'error').at(-1)?.details).toMatchObject({ code: 'RATE_LIMIT_EXCEEDED' })
  })
})

describe('engine: credentials on the upgrade request', () => {
  it('authenticates at open, buffering frames until the principal arrives', () => {
    const h = authHarness({ autoSettle: false })
    h.open('c', { credentials: { token: 'good' } })
    expect(h.effects.filter((e) => e.kind === 'authenticate')).toHaveLength(1)
    h.send('c', 'subscribe', { documentId: 'room:alice:1' })
    expect(h.ofType('c', 'sync_response')).toHaveLength(0)
    h.settle()
    expect(h.messages('c').map((m) => m.type)).toEqual(['auth_success', 'sync_response'])
  })

  it('refuses bad upgrade credentials even in anonymous mode', () => {
    const h = new EngineHarness({ anonymous: true, authenticate: () => null })
    h.open('c', { credentials: { token: 'forged' } })
    h.settle()
    expect(h.closed.get('c')).toEqual({ code: 1008, reason: 'Authentication failed' })
  })
})
