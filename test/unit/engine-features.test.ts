import { describe, expect, it } from 'vitest'
import { encodeFrame } from '../../src/protocol/index.js'
import { EngineHarness } from '../helpers/engine-harness.js'

function base64(bytes: Uint8Array | string): string {
  const raw = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes
  let text = ''
  for (const byte of raw) text += String.fromCharCode(byte)
  return btoa(text)
}

describe('engine: awareness', () => {
  it('subscribing to a document also subscribes to its awareness (SDK reconnects rely on it)', () => {
    const h = new EngineHarness()
    h.open('a')
    h.open('b')
    h.send('a', 'subscribe', { documentId: 'doc' })
    h.send('b', 'awareness_update', { documentId: 'doc', clientId: 'cb', state: { cursor: 1 }, clock: 1 })
    expect(h.ofType('a', 'awareness_update')[0]).toMatchObject({
      clientId: 'cb',
      state: { cursor: 1 },
      clock: 1,
    })
    // The sender is included, as in the TS reference.
    expect(h.ofType('b', 'awareness_update')).toHaveLength(1)
  })

  it('awareness_subscribe returns every present client; stale clocks are ignored', () => {
    const h = new EngineHarness()
    h.open('a')
    h.open('b')
    h.send('a', 'awareness_update', { documentId: 'doc', clientId: 'ca', state: { n: 2 }, clock: 2 })
    h.send('a', 'awareness_update', { documentId: 'doc', clientId: 'ca', state: { n: 1 }, clock: 1 })
    h.send('b', 'awareness_subscribe', { documentId: 'doc' })
    expect(h.ofType('b', 'awareness_state')[0]?.states).toEqual([
      { clientId: 'ca', state: { n: 2 }, clock: 2 },
    ])
    expect(h.ofType('a', 'awareness_update')).toHaveLength(1)
  })

  it('a closing connection makes its clients leave at once', () => {
    const h = new EngineHarness()
    h.open('a')
    h.open('b')
    h.send('b', 'awareness_subscribe', { documentId: 'doc' })
    h.send('a', 'awareness_update', { documentId: 'doc', clientId: 'ca', state: { n: 1 }, clock: 5 })
    h.close('a')
    expect(h.ofType('b', 'awareness_update').at(-1)).toMatchObject({ clientId: 'ca', state: null, clock: 6 })
  })

  it('entries expire on tick after the timeout and a leave is broadcast', () => {
    const h = new EngineHarness({ limits: { awarenessTimeoutMs: 30_000 } })
    h.open('a')
    h.open('b')
    h.send('b', 'awareness_subscribe', { documentId: 'doc' })
    h.send('a', 'awareness_update', { documentId: 'doc', clientId: 'ca', state: { n: 1 }, clock: 1 })
    h.tick(29_999)
    expect(h.ofType('b', 'awareness_update')).toHaveLength(1)
    h.tick(1)
    expect(h.ofType('b', 'awareness_update').at(-1)).toMatchObject({ clientId: 'ca', state: null, clock: 2 })
  })

  it('refuses oversized awareness states', () => {
    const h = new EngineHarness({ limits: { maxAwarenessStateBytes: 20 } })
    h.open('a')
    h.send('a', 'awareness_update', {
      documentId: 'doc',
      clientId: 'c',
      state: { s: 'x'.repeat(50) },
      clock: 1,
    })
    expect(h.ofType('a', 'error')[0]?.details).toMatchObject({ code: 'LIMIT_EXCEEDED' })
  })
})

describe('engine: delta_batch', () => {
  it('applies field ops, acks messageId, relays text-state to others and keeps it for late joiners', () => {
    const h = new EngineHarness()
    h.open('a')
    h.open('b')
    h.send('a', 'subscribe', { documentId: 'doc' })
    h.send('b', 'subscribe', { documentId: 'doc' })
    h.take('a')
    h.take('b')
    h.send('a', 'delta_batch', {
      documentId: 'doc',
      messageId: 'msg-1',
      deltas: [
        {
          type: 'set',
          field: 'title',
          value: 'T',
          clock: { 'client-a': 1 },
          clientId: 'client-a',
          timestamp: 1,
        },
        { type: 'text-state', state: '{"fugue":1}', documentId: 'doc', clientId: 'client-a', timestamp: 1 },
        { type: 'counter', operation: 'increment', value: 2, documentId: 'doc', clientId: 'r1' },
      ],
    })
    const a = h.take('a')
    const b = h.take('b')
    expect(a.filter((m) => m.type === 'delta_batch')).toHaveLength(0)
    expect(a.find((m) => m.type === 'ack')).toMatchObject({ messageId: 'msg-1' })
    const relays = b.filter((m) => m.type === 'delta_batch')
    expect(relays).toHaveLength(2)
    expect(relays[0]).toMatchObject({
      isTextOperation: true,
      deltas: [{ type: 'text-state', state: '{"fugue":1}' }],
    })
    expect(relays[1]).toMatchObject({ deltas: [{ type: 'counter', value: 2 }] })
    expect(b.find((m) => m.type === 'delta')).toMatchObject({ field: 'title', value: 'T' })
    h.open('late')
    h.send('late', 'subscribe', { documentId: 'doc' })
    const late = h.messages('late')
    expect(late.find((m) => m.type === 'sync_response')).toMatchObject({ textState: '{"fugue":1}' })
    expect(late.find((m) => m.type === 'delta_batch')).toMatchObject({ isTextOperation: true })
  })

  it('bounds kept text states per document', () => {
    const h = new EngineHarness({ limits: { maxTextStatesPerDocument: 2 } })
    h.open('a')
    for (const client of ['c1', 'c2', 'c3']) {
      h.send('a', 'delta_batch', {
        documentId: 'doc',
        deltas: [{ type: 'text-state', state: client, clientId: client }],
      })
    }
    h.open('late')
    h.send('late', 'subscribe', { documentId: 'doc' })
    const batch = h.ofType('late', 'delta_batch')[0]
    expect(batch?.deltas.map((d) => d.clientId)).toEqual(['c2', 'c3'])
  })

  it('rejects a missing deltas array with the exact string', () => {
    const h = new EngineHarness()
    h.open('a')
    h.send('a', 'delta_batch', { documentId: 'doc', deltas: [] })
    expect(h.ofType('a', 'error')[0]?.error).toBe('Invalid delta batch: missing or empty deltas array')
  })
})

describe('engine: document loading', () => {
  it('parks requests while the document loads and runs them in order', () => {
    const h = new EngineHarness({ autoSettle: false })
    h.open('a')
    h.send('a', 'delta', { documentId: 'doc', field: 'x', value: 1, messageId: 'm1' })
    h.send('a', 'subscribe', { documentId: 'doc' })
    expect(h.messages('a')).toHaveLength(0)
    expect(h.effects.filter((e) => e.kind === 'load')).toHaveLength(1)
    const topic = h.effects.findIndex((e) => e.kind === 'subscribe-topic')
    const load = h.effects.findIndex((e) => e.kind === 'load')
    expect(topic).toBeLessThan(load)
    h.settle()
    // The write subscribed the connection first (with the state before it), then the subscribe
    // answers with the state after it.
    expect(h.ofType('a', 'sync_response').map((r) => r.state)).toEqual([{}, { x: 1 }])
    expect(h.ofType('a', 'ack')[0]).toMatchObject({ messageId: 'm1' })
  })

  it('a load failure answers the waiting requests with LOAD_FAILED, never an empty document', () => {
    const h = new EngineHarness({ autoSettle: false })
    h.open('a')
    h.send('a', 'subscribe', { documentId: 'doc' })
    h.resolve({ kind: 'load-failed', documentId: 'doc', error: 'db down' })
    expect(h.ofType('a', 'sync_response')).toHaveLength(0)
    expect(h.ofType('a', 'error')[0]).toMatchObject({
      error: 'Failed to load document: db down',
      details: { code: 'LOAD_FAILED', documentId: 'doc' },
    })
    // The next request retries the load.
    h.send('a', 'subscribe', { documentId: 'doc' })
    expect(h.effects.filter((e) => e.kind === 'load')).toHaveLength(2)
  })

  it('loads persisted registers with their stamps (restart keeps LWW metadata)', () => {
    const first = new EngineHarness()
    first.open('a')
    first.send('a', 'delta', { documentId: 'doc', delta: { x: 1, y: { __deleted: true } }, messageId: 'm' })
    const second = new EngineHarness()
    for (const [id, snapshot] of first.store) second.store.set(id, structuredClone(snapshot))
    second.open('b')
    second.send('b', 'subscribe', { documentId: 'doc' })
    expect(second.ofType('b', 'sync_response')[0]?.state).toEqual({ x: 1 })
    second.send('b', 'delta', { documentId: 'doc', field: 'x', value: 2, messageId: 'm2' })
    expect(second.engine.documentState('doc')).toEqual({ x: 2 })
  })
})

describe('engine: large documents', () => {
  it('loads a 10,000-field document and answers sync_response with every field', () => {
    const h = new EngineHarness({ resendFieldsOnSubscribe: true })
    const registers = Array.from({ length: 10_000 }, (_, i) => ({
      field: `f${i}`,
      value: { n: i, text: `value ${i}` },
      deleted: false,
      stamp: { ms: 1_000, counter: i, node: 'node-old' },
      dot: { node: 'node-old', seq: i + 1 },
    }))
    h.store.set('big', { documentId: 'big', registers, clock: { 'node-old': 10_000 } })
    h.open('a')
    h.send('a', 'subscribe', { documentId: 'big' })
    const response = h.ofType('a', 'sync_response')[0]
    expect(Object.keys(response?.state ?? {})).toHaveLength(10_000)
    expect(response?.state.f9999).toEqual({ n: 9999, text: 'value 9999' })
    // SDK 0.1.1 ignores `state`: the fields follow as deltas.
    expect(h.ofType('a', 'delta')).toHaveLength(10_000)
  })
})

describe('engine: durability of acks', () => {
  it('holds acks until persisted; a failed persist sends PERSIST_FAILED and no ack', () => {
    const h = new EngineHarness({ autoSettle: false })
    h.open('a')
    h.send('a', 'subscribe', { documentId: 'doc' })
    h.settle()
    h.take('a')
    h.send('a', 'delta', { documentId: 'doc', field: 'x', value: 1, messageId: 'm1' })
    expect(h.ofType('a', 'ack')).toHaveLength(0)
    const persist = h.effects.filter((e) => e.kind === 'persist').at(-1)
    if (persist?.kind !== 'persist') throw new Error('expected a persist effect')
    h.pending.length = 0
    h.resolve({ kind: 'persist-failed', batchId: persist.batchId, error: 'disk full' })
    expect(h.ofType('a', 'ack')).toHaveLength(0)
    expect(h.ofType('a', 'error')[0]).toMatchObject({ details: { code: 'PERSIST_FAILED', messageId: 'm1' } })
    // The registers are retried by the next flush.
    h.flush()
    const retry = h.effects.filter((e) => e.kind === 'persist').at(-1)
    expect(retry?.kind === 'persist' && retry.batchId).not.toBe(persist.batchId)
  })

  it('durableAcks: false acks on apply', () => {
    const h = new EngineHarness({ durableAcks: false, autoSettle: false })
    h.open('a')
    h.send('a', 'subscribe', { documentId: 'doc' })
    h.settle()
    h.send('a', 'delta', { documentId: 'doc', field: 'x', value: 1, messageId: 'm1' })
    expect(h.ofType('a', 'ack')).toHaveLength(1)
  })
})

describe('engine: limits and quotas', () => {
  it('refuses a value above maxFieldValueBytes without applying any write of the message', () => {
    const h = new EngineHarness({ limits: { maxFieldValueBytes: 10 } })
    h.open('a')
    h.send('a', 'delta', { documentId: 'doc', delta: { ok: 1, big: 'x'.repeat(20) }, messageId: 'm' })
    expect(h.ofType('a', 'error')[0]?.details).toMatchObject({ code: 'LIMIT_EXCEEDED', field: 'big' })
    expect(h.engine.documentState('doc')).toEqual({})
    expect(h.ofType('a', 'ack')).toHaveLength(0)
  })

  it('refuses writes that would grow a document beyond maxDocumentBytes, and counts field names', () => {
    const h = new EngineHarness({ limits: { maxDocumentBytes: 40, maxFieldValueBytes: 30 } })
    h.open('a')
    h.send('a', 'delta', {
      documentId: 'doc',
      delta: { a: 'x'.repeat(20), b: 'y'.repeat(20) },
      messageId: 'm1',
    })
    expect(h.ofType('a', 'error')[0]?.error).toBe('Document size limit reached (max 40 bytes)')
    h.send('a', 'delta', { documentId: 'doc', delta: { a: 'x'.repeat(20) }, messageId: 'm2' })
    // Replacing a field by a smaller value always fits; a long field name counts like a value.
    h.send('a', 'delta', { documentId: 'doc', delta: { a: 'x' }, messageId: 'm3' })
    h.send('a', 'delta', { documentId: 'doc', delta: { ['k'.repeat(40)]: 1 }, messageId: 'm4' })
    expect(h.ofType('a', 'error').map((e) => e.details?.code)).toEqual(['LIMIT_EXCEEDED', 'LIMIT_EXCEEDED'])
    expect(h.ofType('a', 'ack').map((a) => a.messageId)).toEqual(['m2', 'm3'])
    expect(h.engine.documentState('doc')).toEqual({ a: 'x' })
  })

  it('a quota refusal names the refused message (docs/security.md: an ack means applied)', () => {
    const h = new EngineHarness({ limits: { maxDocumentBytes: 64, maxFieldValueBytes: 30 } })
    h.open('a')
    h.send('a', 'delta', { documentId: 'doc', field: 'big', value: 'x'.repeat(40), messageId: 'value' })
    h.send('a', 'delta', {
      documentId: 'doc',
      delta: { a: 'x'.repeat(25), b: 'y'.repeat(25), c: 'z'.repeat(25) },
      messageId: 'document',
    })
    h.send('a', 'delta_batch', {
      documentId: 'doc',
      messageId: 'text',
      deltas: [{ type: 'text-state', state: 't'.repeat(80) }],
    })
    const refusals = h.ofType('a', 'error').map((e) => e.details)
    expect(refusals.map((d) => d?.code)).toEqual(['LIMIT_EXCEEDED', 'LIMIT_EXCEEDED', 'LIMIT_EXCEEDED'])
    expect(refusals.map((d) => d?.messageId)).toEqual(['value', 'document', 'text'])
    expect(h.ofType('a', 'ack')).toHaveLength(0)
    const small = new EngineHarness({ limits: { maxTextStateBytes: 16 } })
    small.open('a')
    small.send('a', 'delta_batch', {
      documentId: 'doc',
      messageId: 'one-text',
      deltas: [{ type: 'text-state', state: 't'.repeat(40) }],
    })
    expect(small.ofType('a', 'error')[0]?.details).toMatchObject({
      code: 'LIMIT_EXCEEDED',
      messageId: 'one-text',
    })
  })

  it('refuses new fields beyond maxFieldsPerDocument', () => {
    const h = new EngineHarness({ limits: { maxFieldsPerDocument: 2 } })
    h.open('a')
    h.send('a', 'delta', { documentId: 'doc', delta: { a: 1, b: 2 } })
    h.send('a', 'delta', { documentId: 'doc', delta: { c: 3 } })
    expect(h.ofType('a', 'error')[0]?.error).toBe('Document field limit reached (max 2 fields)')
    h.send('a', 'delta', { documentId: 'doc', delta: { a: 5 } })
    expect(h.engine.documentState('doc')).toEqual({ a: 5, b: 2 })
  })

  it('refuses subscriptions beyond maxDocumentsPerConnection', () => {
    const h = new EngineHarness({ limits: { maxDocumentsPerConnection: 1 } })
    h.open('a')
    h.send('a', 'subscribe', { documentId: 'd1' })
    h.send('a', 'subscribe', { documentId: 'd2' })
    expect(h.ofType('a', 'error')[0]?.details).toMatchObject({ code: 'LIMIT_EXCEEDED', documentId: 'd2' })
    expect(h.ofType('a', 'sync_response')).toHaveLength(1)
  })

  it('evicts idle documents beyond maxIdleDocuments', () => {
    const h = new EngineHarness({ limits: { maxIdleDocuments: 1 } })
    h.open('a')
    for (const id of ['d1', 'd2', 'd3']) {
      h.send('a', 'subscribe', { documentId: id })
      h.send('a', 'unsubscribe', { documentId: id })
      h.tick(1)
    }
    expect(h.engine.documentIds()).toEqual(['d3'])
  })
})

describe('engine: malformed input', () => {
  it('answers bad frames with the exact strings and never throws', () => {
    const h = new EngineHarness()
    h.open('a')
    h.sendRaw('a', new Uint8Array([0x10, 0, 0]))
    h.sendRaw('a', '{"type":"subscribe"')
    h.send('a', 'subscribe', {})
    h.send('a', 'delta', { documentId: 'doc' })
    h.send('a', 'subscribe', { documentId: 'bad id!' })
    h.sendRaw('a', JSON.stringify({ type: 'sync_response', id: '1', timestamp: 1 }))
    expect(h.ofType('a', 'error').map((e) => e.error)).toEqual([
      'Invalid message format',
      'Invalid message format',
      'Invalid document ID',
      'Invalid delta message: missing or empty delta',
      'Document ID contains invalid characters',
      'Invalid message type: sync_response',
    ])
  })

  it('answers snapshot_request as unsupported', () => {
    const h = new EngineHarness()
    h.open('a')
    h.sendRaw('a', JSON.stringify({ type: 'snapshot_request', id: '1', timestamp: 1, documentId: 'doc' }))
    expect(h.ofType('a', 'error')[0]).toMatchObject({ details: { code: 'UNSUPPORTED' } })
  })
})

describe('engine: chunked messages', () => {
  it('reassembles delta_batch_chunk sets and dispatches the frame', () => {
    const h = new EngineHarness()
    h.open('a')
    const frame = encodeFrame(
      'delta_batch',
      { documentId: 'doc', deltas: [{ field: 'f', value: 'v' }] },
      1,
      'binary',
    )
    if (typeof frame === 'string') throw new Error('expected bytes')
    const half = Math.floor(frame.length / 2)
    h.send('a', 'delta_batch_chunk', {
      chunkId: 'c1',
      totalChunks: 2,
      chunkIndex: 1,
      data: base64(frame.slice(half)),
    })
    expect(h.engine.documentState('doc')).toBeUndefined()
    h.send('a', 'delta_batch_chunk', {
      chunkId: 'c1',
      totalChunks: 2,
      chunkIndex: 0,
      data: base64(frame.slice(0, half)),
    })
    expect(h.engine.documentState('doc')).toEqual({ f: 'v' })
  })

  it('refuses a chunk set above maxChunksPerSet', () => {
    const h = new EngineHarness({ limits: { maxChunksPerSet: 4 } })
    h.open('a')
    h.send('a', 'delta_batch_chunk', { chunkId: 'c', totalChunks: 5, chunkIndex: 0, data: base64('{') })
    expect(h.ofType('a', 'error')[0]?.details).toMatchObject({ code: 'LIMIT_EXCEEDED' })
  })
})

describe('engine: SDK 0.1.1 support', () => {
  it('re-sends fields (tombstones too) as delta frames after the sync_response to subscribe when enabled', () => {
    const h = new EngineHarness({ resendFieldsOnSubscribe: true })
    h.open('w')
    h.send('w', 'delta', { documentId: 'doc', delta: { a: 1, b: { __deleted: true }, c: null } })
    h.open('r')
    h.send('r', 'subscribe', { documentId: 'doc' })
    const types = h.messages('r').map((m) => m.type)
    expect(types).toEqual(['sync_response', 'delta', 'delta', 'delta'])
    expect(h.ofType('r', 'delta').map((d) => [d.field, d.value])).toEqual([
      ['a', 1],
      ['b', { __deleted: true }],
      ['c', null],
    ])
  })

  it('does not re-send when disabled', () => {
    const h = new EngineHarness({ resendFieldsOnSubscribe: false })
    h.open('w')
    h.send('w', 'delta', { documentId: 'doc', delta: { a: 1 } })
    h.open('r')
    h.send('r', 'subscribe', { documentId: 'doc' })
    expect(h.messages('r').map((m) => m.type)).toEqual(['sync_response'])
  })
})
