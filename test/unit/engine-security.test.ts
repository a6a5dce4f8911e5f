/**
 * Regression tests for the holes of issue 10 a hostile client could use (each failed on the
 * engine before its fix), plus the rules around them that must keep holding. The same rules are
 * stated as one property in test/property/engine-security.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { decodeClusterMessage, encodeClusterMessage } from '../../src/cluster/messages.js'
import { AwarenessDocument } from '../../src/crdt/index.js'
import { DEFAULT_LIMITS } from '../../src/engine/index.js'
import type { AuthorizePolicy, EngineLimits, Principal } from '../../src/engine/types.js'
import { decodeClientFrame, encodeBase64, encodeFrame } from '../../src/protocol/index.js'
import type { ServerMessage } from '../../src/protocol/types.js'
import { EngineHarness } from '../helpers/engine-harness.js'

const principal = (userId: string): Principal => ({
  userId,
  permissions: { canRead: [], canWrite: [], isAdmin: false },
  via: 'token',
})

/**
 * alice and bob may do anything. mallory may write `inbox` without reading it (except its
 * `secret` field), read `shared:*`, read and write `shared:open`, and on `shared:fields` write
 * fields other than `locked` but no text-state or relayed op. Nothing else.
 */
const policy: AuthorizePolicy = ({ principal: who, action, documentId, field, op }) => {
  if (who.userId !== 'mallory') return true
  if (documentId === 'inbox') return action === 'write' && field !== 'secret'
  if (documentId === 'shared:open') return true
  if (documentId === 'shared:fields') return field !== 'locked' && op === undefined
  if (documentId.startsWith('shared:')) return action === 'read'
  return false
}

function world(limits: Partial<EngineLimits> = {}, anonymous = false): EngineHarness {
  return new EngineHarness({
    anonymous,
    authenticate: (token) => (token ? principal(token) : null),
    authorize: policy,
    limits,
  })
}

function login(h: EngineHarness, conn: string, user: string): void {
  h.open(conn)
  h.send(conn, 'auth', { token: user })
  h.take(conn)
}

const types = (messages: ServerMessage[]): string[] => messages.map((m) => m.type)
const errors = (messages: ServerMessage[]) =>
  messages.filter((m): m is Extract<ServerMessage, { type: 'error' }> => m.type === 'error')
const awarenessFor = (messages: ServerMessage[], clientId: string) =>
  messages.filter(
    (m): m is Extract<ServerMessage, { type: 'awareness_update' }> =>
      m.type === 'awareness_update' && m.clientId === clientId,
  )

const base64 = (text: string): string => encodeBase64(new TextEncoder().encode(text))

/** alice and mallory, logged in on connections `a` and `m`. */
function aliceAndMallory(): EngineHarness {
  const h = world()
  login(h, 'a', 'alice')
  login(h, 'm', 'mallory')
  return h
}

describe('hole 1: write access does not leak read access', () => {
  it('a write-only writer gets its ack and nothing of the document, then or later', () => {
    const h = aliceAndMallory()
    h.send('a', 'delta', { documentId: 'inbox', field: 'secret', value: 's3cret' })
    h.send('m', 'delta', { documentId: 'inbox', field: 'note', value: 'hi', messageId: 'm1' })
    expect(types(h.take('m'))).toEqual(['ack'])
    h.send('a', 'delta', { documentId: 'inbox', field: 'secret', value: 'again' })
    h.send('a', 'delta_batch', {
      documentId: 'inbox',
      deltas: [{ type: 'text-state', state: '{"t":1}', clientId: 'alice-text' }],
    })
    expect(h.take('m')).toEqual([])
    expect(h.engine.documentState('inbox')).toEqual({ secret: 'again', note: 'hi' })
  })

  it('a write-only delta_batch gets its ack, not the kept text states', () => {
    const h = aliceAndMallory()
    h.send('a', 'delta_batch', {
      documentId: 'inbox',
      deltas: [{ type: 'text-state', state: '{"t":1}', clientId: 'alice-text' }],
    })
    h.send('m', 'delta_batch', { documentId: 'inbox', messageId: 'b1', deltas: [{ field: 'n', value: 1 }] })
    expect(types(h.take('m'))).toEqual(['ack'])
  })

  it('a refused field is not rolled back with a stored value the writer may not read', () => {
    const h = aliceAndMallory()
    h.send('a', 'delta', { documentId: 'inbox', field: 'secret', value: 's3cret' })
    h.send('m', 'delta', { documentId: 'inbox', field: 'secret', value: 'x', messageId: 'm1' })
    const got = h.take('m')
    expect(types(got)).toEqual(['error'])
    expect(errors(got)[0]?.details).toMatchObject({ code: 'PERMISSION_DENIED', field: 'secret' })
    expect(JSON.stringify(got)).not.toContain('s3cret')
  })
})

describe('hole 2: presence belongs to its owner', () => {
  function room(limits: Partial<EngineLimits> = {}) {
    const h = world(limits)
    for (const [conn, user] of [
      ['a', 'alice'],
      ['b', 'bob'],
      ['m', 'mallory'],
    ] as const) {
      login(h, conn, user)
      h.send(conn, 'awareness_subscribe', { documentId: 'shared:room' })
    }
    h.send('a', 'awareness_update', {
      documentId: 'shared:room',
      clientId: 'alice-1',
      state: { name: 'alice' },
      clock: 1,
    })
    for (const conn of ['a', 'b', 'm']) h.take(conn)
    return h
  }

  it("refuses another user's update of a client id, with an error naming it", () => {
    const h = room()
    h.send('m', 'awareness_update', {
      documentId: 'shared:room',
      clientId: 'alice-1',
      state: { name: 'evil' },
      clock: 2,
    })
    expect(errors(h.take('m'))[0]).toMatchObject({
      error: 'Awareness client id belongs to another client',
      details: { code: 'PERMISSION_DENIED', documentId: 'shared:room', clientId: 'alice-1' },
    })
    expect(awarenessFor(h.take('b'), 'alice-1')).toEqual([])
    expect(h.engine.awarenessEntries('shared:room')).toMatchObject([
      { clientId: 'alice-1', state: { name: 'alice' }, clock: 1 },
    ])
  })

  it('a huge clock and a leave from someone else cannot lock the owner out', () => {
    const h = room()
    const forged = { documentId: 'shared:room', clientId: 'alice-1' }
    h.send('m', 'awareness_update', { ...forged, state: { x: 1 }, clock: 2 ** 48 })
    h.send('m', 'awareness_update', { ...forged, state: null, clock: 2 ** 48 })
    expect(awarenessFor(h.take('b'), 'alice-1')).toEqual([])
    h.send('a', 'awareness_update', { ...forged, state: { name: 'alice 2' }, clock: 2 })
    expect(awarenessFor(h.take('b'), 'alice-1').map((u) => u.state)).toEqual([{ name: 'alice 2' }])
  })

  it("a leave remembered from someone else's use of an id does not block its next owner", () => {
    const h = room()
    const id = { documentId: 'shared:room', clientId: 'bob-1' }
    h.send('m', 'awareness_update', { ...id, state: { squat: true }, clock: 2 ** 40 })
    h.send('m', 'awareness_update', { ...id, state: null, clock: 2 ** 40 })
    h.take('a')
    h.send('b', 'awareness_update', { ...id, state: { name: 'bob' }, clock: 1 })
    expect(awarenessFor(h.take('a'), 'bob-1').map((u) => u.state)).toEqual([{ name: 'bob' }])
  })

  it('bounds how far one update may move a client clock', () => {
    const h = room({ maxAwarenessClockStep: 10 })
    h.send('a', 'awareness_update', { documentId: 'shared:room', clientId: 'alice-1', state: {}, clock: 11 })
    const clock = 11 + 10 + 1
    h.send('a', 'awareness_update', {
      documentId: 'shared:room',
      clientId: 'alice-1',
      state: { name: 'far' },
      clock,
    })
    expect(errors(h.take('a'))[0]?.details).toMatchObject({ code: 'LIMIT_EXCEEDED', clientId: 'alice-1' })
    expect(awarenessFor(h.take('b'), 'alice-1').map((u) => u.clock)).toEqual([11])
  })

  it('an anonymous connection owns its ids: another anonymous connection cannot take them', () => {
    const h = new EngineHarness({ anonymous: true })
    h.open('c1')
    h.open('c2')
    h.send('c2', 'awareness_subscribe', { documentId: 'doc' })
    h.send('c1', 'awareness_update', { documentId: 'doc', clientId: 'x', state: { v: 1 }, clock: 1 })
    h.take('c2')
    h.send('c2', 'awareness_update', { documentId: 'doc', clientId: 'x', state: { v: 2 }, clock: 2 })
    expect(errors(h.take('c2'))[0]?.details).toMatchObject({ code: 'PERMISSION_DENIED', clientId: 'x' })
    expect(h.engine.awarenessEntries('doc')).toMatchObject([{ clientId: 'x', state: { v: 1 } }])
  })

  it("(kept) a user's new socket keeps their id, and the old socket closing does not end it", () => {
    const h = room()
    login(h, 'a2', 'alice')
    h.send('a2', 'awareness_update', {
      documentId: 'shared:room',
      clientId: 'alice-1',
      state: { name: 'back' },
      clock: 2,
    })
    h.close('a')
    expect(awarenessFor(h.take('b'), 'alice-1').map((u) => u.state)).toEqual([{ name: 'back' }])
    expect(h.engine.awarenessEntries('shared:room')).toMatchObject([{ clientId: 'alice-1' }])
  })

  it("a local connection cannot take over an id another node's client owns", () => {
    const h = room()
    h.resolve({
      kind: 'remote-awareness',
      documentId: 'shared:room',
      entry: { clientId: 'carol-1', state: { name: 'carol' }, clock: 1, owner: 'user:carol' },
    })
    h.take('b')
    h.send('m', 'awareness_update', {
      documentId: 'shared:room',
      clientId: 'carol-1',
      state: { name: 'evil' },
      clock: 2,
    })
    expect(errors(h.take('m'))[0]?.details).toMatchObject({ code: 'PERMISSION_DENIED' })
    // Nor can an entry another node accepted for someone else (two nodes racing for one id).
    for (const [clientId, owner] of [
      ['carol-1', 'user:mallory'],
      ['alice-1', 'user:mallory'],
    ] as const) {
      h.resolve({
        kind: 'remote-awareness',
        documentId: 'shared:room',
        entry: { clientId, state: { name: 'evil' }, clock: 5, owner },
      })
    }
    expect(h.take('b')).toEqual([])
    expect(h.engine.awarenessEntries('shared:room').map((e) => e.state)).toEqual([
      { name: 'alice' },
      { name: 'carol' },
    ])
  })

  it("bounds the clock step of another node's updates too", () => {
    const h = room({ maxAwarenessClockStep: 10 })
    const entry = { clientId: 'carol-1', state: { name: 'carol' }, clock: 1, owner: 'user:carol' }
    h.resolve({ kind: 'remote-awareness', documentId: 'shared:room', entry })
    const far = { ...entry, state: { name: 'far' }, clock: 12 }
    h.resolve({ kind: 'remote-awareness', documentId: 'shared:room', entry: far })
    expect(awarenessFor(h.take('b'), 'carol-1').map((u) => u.state)).toEqual([{ name: 'carol' }])
  })

  it('publishes the owner with each presence change, and cluster messages carry it compatibly', () => {
    const h = room()
    const published = h.effects.filter((e) => e.kind === 'publish-awareness')
    expect(published.at(-1)).toMatchObject({ entry: { clientId: 'alice-1', owner: 'user:alice' } })
    const entry = { clientId: 'alice-1', state: { v: 1 }, clock: 3, owner: 'user:alice' }
    const raw = encodeClusterMessage({ type: 'awareness', documentId: 'd', entry })
    expect(decodeClusterMessage(raw)).toEqual({ type: 'awareness', documentId: 'd', entry })
    // A node of the previous version sends no owner: still accepted.
    const old = JSON.stringify({
      v: 1,
      type: 'awareness',
      documentId: 'd',
      entry: { ...entry, owner: undefined },
    })
    expect(decodeClusterMessage(old)).toMatchObject({ entry: { clientId: 'alice-1', clock: 3 } })
  })
})

describe('hole 3: bounded client ids and remembered leaves', () => {
  const update = (clientId: string) =>
    decodeClientFrame(
      encodeFrame('awareness_update', { documentId: 'd', clientId, state: {}, clock: 1 }, 0, 'json'),
    )

  it('caps awareness client ids at 128 characters in the validator', () => {
    expect(update('x'.repeat(128)).ok).toBe(true)
    const result = update('x'.repeat(129))
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.error.code).toBe('INVALID_MESSAGE')
  })

  it('caps client ids in cluster messages too', () => {
    const entry = { clientId: 'x'.repeat(129), state: {}, clock: 1 }
    expect(decodeClusterMessage(JSON.stringify({ v: 1, type: 'awareness', documentId: 'd', entry }))).toBe(
      undefined,
    )
    const snapshot = { v: 1, type: 'awareness-snapshot', documentId: 'd', entries: [entry] }
    expect(decodeClusterMessage(JSON.stringify(snapshot))).toBe(undefined)
  })

  it('keeps remembered leaves within a byte budget per room', () => {
    const aw = new AwarenessDocument({ maxLeftBytes: 1_000 })
    for (let i = 0; i < 100; i++) aw.apply(`${i}`.padStart(100, 'x'), null, 5, 0)
    expect(aw.leftBytes).toBeGreaterThan(0)
    expect(aw.leftBytes).toBeLessThanOrEqual(1_000)
  })

  it('the engine forgets the oldest remembered leave beyond maxAwarenessLeftBytes', () => {
    const h = new EngineHarness({ limits: { maxAwarenessLeftBytes: 300 } })
    h.open('c')
    h.open('w')
    h.send('w', 'awareness_subscribe', { documentId: 'doc' })
    const id = (n: number) => `${n}`.padStart(100, 'x')
    for (let n = 0; n < 4; n++) {
      h.send('c', 'awareness_update', { documentId: 'doc', clientId: id(n), state: null, clock: 5 })
    }
    h.take('w')
    h.send('c', 'awareness_update', { documentId: 'doc', clientId: id(0), state: { back: 1 }, clock: 1 })
    expect(awarenessFor(h.take('w'), id(0)).map((u) => u.state)).toEqual([{ back: 1 }])
  })
})

describe('hole 4: kept text states are bounded and counted', () => {
  const textOp = (clientId: string, size: number) => ({
    type: 'text-state',
    state: 's'.repeat(size),
    clientId,
  })

  it('refuses a text-state op above maxTextStateBytes: not kept, not relayed, not acked', () => {
    const h = new EngineHarness({ limits: { maxTextStateBytes: 1_000 } })
    h.open('a')
    h.open('b')
    h.send('b', 'subscribe', { documentId: 'doc' })
    h.take('b')
    h.send('a', 'delta_batch', { documentId: 'doc', messageId: 'x', deltas: [textOp('a-1', 2_000)] })
    const got = h.take('a')
    expect(errors(got)[0]?.details).toMatchObject({ code: 'LIMIT_EXCEEDED' })
    expect(types(got)).not.toContain('ack')
    expect(h.take('b')).toEqual([])
  })

  it('counts kept text states in maxDocumentBytes', () => {
    const h = new EngineHarness({ limits: { maxDocumentBytes: 5_000, maxTextStateBytes: 4_000 } })
    h.open('a')
    h.send('a', 'delta_batch', { documentId: 'doc', deltas: [textOp('a-1', 3_000)] })
    expect(errors(h.take('a'))).toEqual([])
    h.send('a', 'delta', { documentId: 'doc', field: 'big', value: 'v'.repeat(3_000) })
    expect(errors(h.take('a'))[0]).toMatchObject({ error: 'Document size limit reached (max 5000 bytes)' })
    h.send('a', 'delta_batch', { documentId: 'doc', deltas: [textOp('a-2', 3_000)] })
    expect(errors(h.take('a'))[0]?.details).toMatchObject({ code: 'LIMIT_EXCEEDED' })
    expect(h.engine.documentState('doc')).toEqual({})
  })

  it('sends the kept text states to a late joiner as several reply frames within the op cap', () => {
    const h = new EngineHarness({ limits: { maxTextStateBytes: 1_000 } })
    h.open('a')
    for (let i = 0; i < 10; i++) {
      h.send('a', 'delta_batch', { documentId: 'doc', deltas: [textOp(`c${i}`, 900)] })
    }
    const mark = h.effects.length
    h.open('late')
    h.send('late', 'subscribe', { documentId: 'doc' })
    const frames = h.effects.slice(mark).filter((e) => e.kind === 'send' && e.message.type === 'delta_batch')
    expect(frames.length).toBeGreaterThanOrEqual(5)
    const clients: unknown[] = []
    for (const frame of frames) {
      if (frame.kind !== 'send' || frame.message.type !== 'delta_batch') continue
      expect(frame.reply).toBe(true)
      expect(JSON.stringify(frame.message.deltas).length).toBeLessThanOrEqual(1_000 + 2)
      clients.push(...frame.message.deltas.map((d) => d.clientId))
    }
    expect(clients.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `c${i}`).sort())
  })
})

describe('hole 6: every frame costs something', () => {
  it('answers at most maxPingsPerMinute pings a minute', () => {
    const h = new EngineHarness()
    h.open('c')
    for (let i = 0; i < 1_500; i++) h.send('c', 'ping', {})
    expect(h.ofType('c', 'pong').length).toBeLessThanOrEqual(DEFAULT_LIMITS.maxPingsPerMinute)
  })

  it("always answers the SDK's heartbeat, even when the message budget is spent", () => {
    const h = new EngineHarness({ limits: { maxMessagesPerMinute: 5 } })
    h.open('c')
    for (let minute = 0; minute < 30; minute++) {
      for (let i = 0; i < 20; i++) h.send('c', 'subscribe', { documentId: `d${i}` })
      h.send('c', 'ping', {})
      h.tick(30_000)
      h.send('c', 'ping', {})
      h.tick(30_000)
    }
    expect(h.ofType('c', 'pong')).toHaveLength(60)
  })

  it('charges chunk frames to the message budget', () => {
    const h = new EngineHarness()
    h.open('c')
    for (let i = 0; i < 1_500; i++) {
      h.send('c', 'delta_batch_chunk', { chunkId: `s${i}`, totalChunks: 2, chunkIndex: 0, data: base64('{') })
    }
    const handled = errors(h.messages('c')).filter((e) => e.details?.code !== 'RATE_LIMIT_EXCEEDED')
    expect(handled.length).toBeLessThanOrEqual(DEFAULT_LIMITS.maxMessagesPerMinute)
  })

  it('closes a connection after maxInvalidFrames invalid frames, with a clear reason', () => {
    const h = new EngineHarness()
    h.open('c')
    for (let i = 0; i < 1_500 && !h.closed.has('c'); i++) h.sendRaw('c', `{"type":"nonsense-${i}"}`)
    expect(h.closed.get('c')).toEqual({ code: 1008, reason: 'Too many invalid messages' })
    expect(h.ofType('c', 'error').length).toBeLessThanOrEqual(DEFAULT_LIMITS.maxInvalidFrames + 1)
  })

  it('forgives invalid frames over time, so an honest client is not closed for a rare one', () => {
    const h = new EngineHarness({ limits: { maxInvalidFrames: 3 } })
    h.open('c')
    for (let i = 0; i < 30; i++) {
      h.sendRaw('c', '{"type":"nonsense"}')
      h.tick(60_000)
    }
    expect(h.closed.has('c')).toBe(false)
  })

  it("checks a chunk set's bounds before decoding the chunk", () => {
    const h = new EngineHarness({ limits: { maxChunkSetsPerConnection: 1, maxChunkSetBytes: 10 } })
    h.open('c')
    h.send('c', 'delta_batch_chunk', { chunkId: 'a', totalChunks: 2, chunkIndex: 0, data: base64('{') })
    h.send('c', 'delta_batch_chunk', { chunkId: 'b', totalChunks: 2, chunkIndex: 0, data: '!!!!' })
    expect(h.ofType('c', 'error').at(-1)?.error).toBe('Too many pending chunk sets')
    const large = `${base64('x'.repeat(30))}!`
    h.send('c', 'delta_batch_chunk', { chunkId: 'a', totalChunks: 2, chunkIndex: 1, data: large })
    expect(h.ofType('c', 'error').at(-1)?.error).toBe('Chunk set too large')
  })
})

describe('hole 7: relayed ops carry the batch document and the sender own client id', () => {
  function open() {
    const h = world()
    login(h, 'a', 'alice')
    login(h, 'b', 'bob')
    login(h, 'm', 'mallory')
    for (const documentId of ['shared:open', 'secret']) h.send('b', 'subscribe', { documentId })
    h.send('m', 'subscribe', { documentId: 'shared:open' })
    for (const conn of ['a', 'b', 'm']) h.take(conn)
    return h
  }
  const relayedOps = (messages: ServerMessage[]) =>
    messages.flatMap((m) => (m.type === 'delta_batch' ? m.deltas : []))

  it("forces a relayed op's documentId to the batch's document", () => {
    const h = open()
    h.send('m', 'delta_batch', {
      documentId: 'shared:open',
      deltas: [
        { type: 'text-state', state: 'evil', documentId: 'secret', clientId: 'm-text' },
        { type: 'counter', operation: 'increment', value: 9, documentId: 'secret', clientId: 'm-1' },
      ],
    })
    const ops = relayedOps(h.take('b'))
    expect(ops).toHaveLength(2)
    for (const op of ops) expect(op.documentId).toBe('shared:open')
    login(h, 'late', 'bob')
    h.send('late', 'subscribe', { documentId: 'shared:open' })
    const kept = relayedOps(h.take('late'))
    expect(kept).toMatchObject([{ clientId: 'm-text', documentId: 'shared:open' }])
  })

  it('refuses ops that impersonate the server', () => {
    const h = open()
    h.send('m', 'delta_batch', {
      documentId: 'shared:open',
      deltas: [
        { type: 'text-state', state: 'evil', clientId: 'server' },
        { type: 'counter', operation: 'increment', value: 9, clientId: 'server' },
      ],
    })
    expect(errors(h.take('m')).map((e) => e.details?.code)).toEqual([
      'PERMISSION_DENIED',
      'PERMISSION_DENIED',
    ])
    expect(relayedOps(h.take('b'))).toEqual([])
  })

  it("cannot overwrite another client's kept text state", () => {
    const h = open()
    h.send('a', 'delta_batch', {
      documentId: 'shared:open',
      deltas: [{ type: 'text-state', state: 'alice', clientId: 'alice-text' }],
    })
    h.take('b')
    h.send('m', 'delta_batch', {
      documentId: 'shared:open',
      deltas: [{ type: 'text-state', state: 'evil', clientId: 'alice-text' }],
    })
    expect(errors(h.take('m'))[0]?.details).toMatchObject({
      code: 'PERMISSION_DENIED',
      clientId: 'alice-text',
    })
    expect(relayedOps(h.take('b'))).toEqual([])
    login(h, 'late', 'bob')
    h.send('late', 'subscribe', { documentId: 'shared:open' })
    expect(relayedOps(h.take('late'))).toMatchObject([{ clientId: 'alice-text', state: 'alice' }])
  })

  it("cannot push another client's kept text state out with many client ids (and then take its id)", () => {
    const h = new EngineHarness({
      anonymous: false,
      authenticate: (token) => (token ? principal(token) : null),
      authorize: policy,
      limits: { maxTextStatesPerDocument: 3 },
    })
    login(h, 'a', 'alice')
    login(h, 'm', 'mallory')
    h.send('a', 'delta_batch', {
      documentId: 'shared:open',
      deltas: [{ type: 'text-state', state: 'alice', clientId: 'alice-text' }],
    })
    for (let i = 0; i < 5; i++) {
      h.send('m', 'delta_batch', {
        documentId: 'shared:open',
        deltas: [{ type: 'text-state', state: `m${i}`, clientId: `m-${i}` }],
      })
    }
    expect(h.engine.textStates('shared:open').map((op) => op.clientId)).toEqual(['alice-text', 'm-3', 'm-4'])
  })

  it('cannot relay ops under a client id someone else is present as', () => {
    const h = open()
    h.send('a', 'awareness_update', { documentId: 'shared:open', clientId: 'alice-1', state: {}, clock: 1 })
    h.take('b')
    h.send('m', 'delta_batch', {
      documentId: 'shared:open',
      deltas: [{ type: 'counter', operation: 'increment', value: 9, clientId: 'alice-1' }],
    })
    expect(errors(h.take('m'))[0]?.details).toMatchObject({ code: 'PERMISSION_DENIED', clientId: 'alice-1' })
    expect(relayedOps(h.take('b'))).toEqual([])
  })
})

describe('field-level policies: text-state and relayed ops, and no ack for nothing applied', () => {
  it('asks the policy about text-state and relayed ops, and drops the refused ones', () => {
    const h = world()
    login(h, 'b', 'bob')
    login(h, 'm', 'mallory')
    h.send('b', 'subscribe', { documentId: 'shared:fields' })
    h.take('b')
    h.send('m', 'delta_batch', {
      documentId: 'shared:fields',
      messageId: 'x',
      deltas: [
        { type: 'text-state', state: 'evil', clientId: 'm-text' },
        { type: 'counter', operation: 'increment', value: 9, clientId: 'm-1' },
        { field: 'open', value: 1 },
      ],
    })
    const got = h.take('m')
    expect(errors(got).map((e) => e.details)).toMatchObject([
      { code: 'PERMISSION_DENIED', op: 'text-state' },
      { code: 'PERMISSION_DENIED', op: 'counter' },
    ])
    expect(types(got)).toContain('ack')
    expect(types(h.take('b'))).toEqual(['delta'])
  })

  it('sends no ack for a write whose every field was refused', () => {
    const h = world()
    login(h, 'm', 'mallory')
    h.send('m', 'delta', { documentId: 'shared:fields', field: 'locked', value: 1, messageId: 'w1' })
    h.send('m', 'delta_batch', {
      documentId: 'shared:fields',
      messageId: 'w2',
      deltas: [{ field: 'locked', value: 2 }],
    })
    const got = h.take('m')
    expect(types(got)).not.toContain('ack')
    expect(errors(got).map((e) => e.details?.messageId)).toEqual(['w1', 'w2'])
    expect(h.engine.documentState('shared:fields')).toEqual({})
  })
})

describe('found by the security property', () => {
  // engine-security: awareness_update(read, clientId 'm-') then unsubscribe(read): the id stayed
  // present in a room the connection no longer watched, outside every per-connection bound.
  it('presence a connection announced leaves when it stops watching the room', () => {
    const h = new EngineHarness()
    h.open('c')
    h.open('w')
    h.send('w', 'awareness_subscribe', { documentId: 'doc' })
    h.send('c', 'awareness_update', { documentId: 'doc', clientId: 'x', state: { v: 1 }, clock: 1 })
    h.take('w')
    h.send('c', 'unsubscribe', { documentId: 'doc' })
    expect(awarenessFor(h.take('w'), 'x')).toMatchObject([{ state: null, clock: 2 }])
    expect(h.engine.awarenessEntries('doc')).toEqual([])
    expect(h.engine.connectionUsage('c')).toMatchObject({ presenceClients: 0, awarenessRooms: 0 })
  })
})

describe('found by the security property (cluster)', () => {
  // engine-security: remote-hostile(read, 'alice-t'), then alice keeps her text state as 'alice-t'
  // in `read`: another node's presence entry had taken the id of a text state kept here.
  it("another node's presence cannot take the id of a text state kept here", () => {
    const h = world()
    login(h, 'a', 'alice')
    h.send('a', 'delta_batch', {
      documentId: 'shared:room',
      deltas: [{ type: 'text-state', state: 'alice 1', clientId: 'alice-text' }],
    })
    h.resolve({
      kind: 'remote-awareness',
      documentId: 'shared:room',
      entry: { clientId: 'alice-text', state: { name: 'evil' }, clock: 1, owner: 'user:mallory' },
    })
    h.send('a', 'delta_batch', {
      documentId: 'shared:room',
      messageId: 't2',
      deltas: [{ type: 'text-state', state: 'alice 2', clientId: 'alice-text' }],
    })
    expect(errors(h.take('a'))).toEqual([])
    expect(h.engine.awarenessEntries('shared:room')).toEqual([])
    expect(h.engine.textStates('shared:room')).toMatchObject([{ clientId: 'alice-text', state: 'alice 2' }])
  })
})

describe('docs/security.md: a field-level policy that also decides text states and relayed ops', () => {
  // The example of docs/security.md, verbatim.
  const authorize: AuthorizePolicy = ({ principal, action, documentId, field, op }) => {
    if (!documentId.startsWith('post:')) return false
    if (action === 'read' || principal.permissions.isAdmin) return true
    const editor = principal.permissions.canWrite.includes(documentId)
    if (op !== undefined) return editor // text states and relayed ops
    return editor || field === undefined || field.startsWith('comment:')
  }

  it('lets anyone comment and only editors change the rest, text included', () => {
    const editor: Principal = {
      userId: 'ed',
      permissions: { canRead: [], canWrite: ['post:1'], isAdmin: false },
      via: 'token',
    }
    const h = new EngineHarness({
      anonymous: false,
      authenticate: (token) => (token === 'ed' ? editor : token ? principal(token) : null),
      authorize,
    })
    login(h, 'e', 'ed')
    login(h, 'r', 'reader')
    const text = { type: 'text-state', state: 'body', clientId: 'x' }
    h.send('e', 'delta_batch', { documentId: 'post:1', deltas: [{ field: 'title', value: 'T' }, text] })
    h.send('r', 'delta_batch', {
      documentId: 'post:1',
      deltas: [
        { field: 'comment:1', value: 'nice' },
        { field: 'title', value: 'mine' },
        { ...text, clientId: 'y' },
      ],
    })
    expect(h.engine.documentState('post:1')).toEqual({ title: 'T', 'comment:1': 'nice' })
    expect(h.engine.textStates('post:1').map((op) => op.clientId)).toEqual(['x'])
    expect(errors(h.take('r')).map((e) => e.details)).toMatchObject([
      { op: 'text-state' },
      { field: 'title' },
    ])
  })
})
