/**
 * Regressions found by the fuzz suite (test/fuzz). Each test is the minimal input of a fuzz
 * counterexample, driven through the decoder or the engine directly. They fail until the bug they
 * name is fixed; the invariant id of the fuzz driver that caught each one is given in brackets.
 */
import { describe, expect, it } from 'vitest'
import { SyncEngine } from '../../src/engine/index.js'
import type { Effect, EngineOptions, Principal, SendEffect } from '../../src/engine/types.js'
import {
  decodeClientFrame,
  decodeServerFrame,
  encodeBase64,
  encodeServerMessage,
  type ServerMessage,
} from '../../src/protocol/index.js'

/** A minimal synchronous runtime: loads answer empty documents, persists succeed. */
class Rig {
  readonly engine: SyncEngine
  readonly effects: Effect[] = []
  now = 1_000_000
  #ids = 0
  readonly #principals: Record<string, Principal>

  constructor(options: Partial<EngineOptions> = {}, principals: Record<string, Principal> = {}) {
    this.#principals = principals
    this.engine = new SyncEngine({
      nodeId: 'node-a',
      anonymous: true,
      durableAcks: true,
      resendFieldsOnSubscribe: false,
      newId: () => `s${++this.#ids}`,
      ...options,
    })
  }

  open(conn: string): void {
    this.#run(this.engine.open(conn, this.now))
  }

  /** One JSON text frame, then the end of the I/O turn (flush); runtime answers arrive at once. */
  send(conn: string, message: Record<string, unknown> | string): void {
    const frame =
      typeof message === 'string' ? message : JSON.stringify({ id: `c${++this.#ids}`, ...message })
    this.#run(this.engine.receive(conn, frame, this.now))
    this.#run(this.engine.flush(this.now))
  }

  /** Frame received without resolving anything (a load stays pending). */
  receiveOnly(conn: string, message: Record<string, unknown>): Effect[] {
    const effects = this.engine.receive(conn, JSON.stringify({ id: `c${++this.#ids}`, ...message }), this.now)
    this.effects.push(...effects)
    return effects
  }

  close(conn: string): void {
    this.#run(this.engine.close(conn, this.now))
  }

  sends(conn?: string): ServerMessage[] {
    return this.effects
      .filter((e): e is SendEffect => e.kind === 'send' && (conn === undefined || e.to.includes(conn)))
      .map((e) => e.message)
  }

  take(): Effect[] {
    return this.effects.splice(0)
  }

  #run(effects: Effect[]): void {
    const queue = [...effects]
    while (queue.length > 0) {
      const effect = queue.shift()
      if (!effect) break
      this.effects.push(effect)
      if (effect.kind === 'load') {
        const snapshot = { documentId: effect.documentId, registers: [], clock: {} }
        queue.push(...this.engine.resolve({ kind: 'loaded', snapshot }, this.now))
      } else if (effect.kind === 'persist') {
        queue.push(...this.engine.resolve({ kind: 'persisted', batchId: effect.batchId }, this.now))
      } else if (effect.kind === 'authenticate') {
        const principal = this.#principals[effect.credentials.token ?? '']
        queue.push(
          ...this.engine.resolve(
            principal
              ? { kind: 'authenticated', conn: effect.conn, principal }
              : { kind: 'authentication-failed', conn: effect.conn, reason: 'refused' },
            this.now,
          ),
        )
      }
    }
  }
}

/** True if `value` holds a number JSON cannot represent (Infinity, -Infinity, NaN). */
function hasNonFinite(value: unknown): boolean {
  const stack: unknown[] = [value]
  while (stack.length > 0) {
    const v = stack.pop()
    if (typeof v === 'number' && !Number.isFinite(v)) return true
    if (typeof v === 'object' && v !== null) stack.push(...Object.values(v))
  }
  return false
}

const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth)

describe('fuzz regressions: numbers JSON cannot carry [nonfinite-number]', () => {
  // `1e999` is valid JSON text; JSON.parse turns it into Infinity. The top-level value of a write
  // is checked with Number.isFinite, nested values and the envelope timestamp are not.
  it('decodeClientFrame does not yield Infinity from a nested 1e999', () => {
    const result = decodeClientFrame('{"type":"delta","id":"x","documentId":"doc-1","delta":{"f":[1e999]}}')
    expect(result.ok && hasNonFinite(result.message)).toBe(false)
  })

  it('decodeClientFrame does not yield an Infinity timestamp from "timestamp":1e999', () => {
    const result = decodeClientFrame('{"type":"ping","id":"x","timestamp":1e999}')
    expect(result.ok && !Number.isFinite(result.message.timestamp)).toBe(false)
  })

  it('a write of [1e999] leaves the document state JSON (what is stored is what is sent)', () => {
    const rig = new Rig()
    rig.open('a')
    rig.send('a', '{"type":"delta","id":"w","documentId":"doc-1","delta":{"f":[1e999]}}')
    // Today the document holds [Infinity] while every echo and every persist carries [null].
    expect(hasNonFinite(rig.engine.documentState('doc-1'))).toBe(false)
    expect(rig.sends('a').some(hasNonFinite)).toBe(false)
  })

  it('an awareness state with a nested 1e999 is not broadcast with Infinity', () => {
    const rig = new Rig()
    rig.open('a')
    rig.send(
      'a',
      '{"type":"awareness_update","id":"u","documentId":"doc-1","clientId":"k","clock":1,"state":{"x":[1e999]}}',
    )
    expect(rig.sends('a').some(hasNonFinite)).toBe(false)
  })
})

describe('fuzz regressions: server frames deeper than clients accept [server-frame-too-deep]', () => {
  // The decoder accepts client JSON nested up to MAX_JSON_DEPTH (64); the engine re-nests the
  // value deeper in its replies, and decodeServerFrame (src/client) refuses anything above 64.
  const decodable = (message: ServerMessage): boolean =>
    decodeServerFrame(encodeServerMessage(message, 'json')).ok &&
    decodeServerFrame(encodeServerMessage(message, 'binary')).ok

  it('a field value accepted at the depth limit does not make sync_response undecodable', () => {
    const rig = new Rig()
    rig.open('a')
    // SDK shape: the value sits at depth 2 of the frame, so 63 levels make the frame 64 deep.
    const write = `{"type":"delta","id":"w","documentId":"doc-1","field":"f","value":${nested(63)}}`
    expect(decodeClientFrame(write).ok).toBe(true)
    rig.send('a', write)
    rig.open('b')
    rig.send('b', { type: 'subscribe', documentId: 'doc-1' })
    const responses = rig.sends('b').filter((m) => m.type === 'sync_response')
    expect(responses).toHaveLength(1)
    // Depth 65 today: every client that subscribes to doc-1 drops its sync_response.
    expect(responses.every(decodable)).toBe(true)
  })

  it('an awareness state accepted at the depth limit does not make awareness_state undecodable', () => {
    const rig = new Rig()
    rig.open('a')
    const update = `{"type":"awareness_update","id":"u","documentId":"doc-1","clientId":"k","clock":1,"state":{"a":${nested(62)}}}`
    expect(decodeClientFrame(update).ok).toBe(true)
    rig.send('a', update)
    rig.open('b')
    rig.send('b', { type: 'awareness_subscribe', documentId: 'doc-1' })
    const states = rig.sends('b').filter((m) => m.type === 'awareness_state')
    expect(states).toHaveLength(1)
    // Depth 66 today: a single hostile state hides everyone's presence from new watchers.
    expect(states.every(decodable)).toBe(true)
  })
})

describe('fuzz regressions: re-authentication keeps old subscriptions [data-without-permission]', () => {
  const principal = (userId: string, canRead: string[], canWrite: string[]): Principal => ({
    userId,
    permissions: { canRead, canWrite, isAdmin: false },
    via: 'token',
  })

  it('a connection that re-authenticates as a principal without read access stops receiving the document', () => {
    const rig = new Rig(
      { anonymous: false },
      {
        'tok-alice': principal('alice', ['doc-*'], ['doc-*']),
        'tok-bob': principal('bob', ['bob-*'], []),
      },
    )
    rig.open('a')
    rig.send('a', { type: 'auth', token: 'tok-alice' })
    rig.send('a', { type: 'subscribe', documentId: 'doc-1' })
    rig.send('a', { type: 'awareness_subscribe', documentId: 'doc-1' })
    // In-band re-auth on the same socket, as another user who may not read doc-1.
    rig.send('a', { type: 'auth', token: 'tok-bob' })
    const afterReauth = rig.sends('a')
    expect(afterReauth.find((m) => m.type === 'auth_success' && m.userId === 'bob')).toBeDefined()
    // The lost access is said, per document.
    expect(afterReauth.at(-1)).toMatchObject({
      type: 'error',
      error: 'Access revoked',
      details: { documentId: 'doc-1' },
    })
    rig.take()
    rig.open('w')
    rig.send('w', { type: 'auth', token: 'tok-alice' })
    rig.send('w', { type: 'delta', documentId: 'doc-1', delta: { secret: 1 } })
    rig.send('w', {
      type: 'awareness_update',
      documentId: 'doc-1',
      clientId: 'k',
      clock: 1,
      state: { at: 1 },
    })
    const leaked = rig.sends('a').filter((m) => 'documentId' in m && m.documentId === 'doc-1')
    expect(leaked).toEqual([])
  })
})

describe('fuzz regressions: sends addressed to closed connections [send-to-closed]', () => {
  it('the ack of a write parked during a load is not sent once its connection has closed', () => {
    const rig = new Rig({ durableAcks: false })
    rig.open('a')
    // First access to doc-1: the write is parked until the load is answered.
    const effects = rig.receiveOnly('a', {
      type: 'delta',
      documentId: 'doc-1',
      delta: { f: 1 },
      messageId: 'm1',
    })
    const load = effects.find((e) => e.kind === 'load')
    expect(load).toBeDefined()
    rig.close('a')
    rig.take()
    const after = rig.engine.resolve(
      { kind: 'loaded', snapshot: { documentId: 'doc-1', registers: [], clock: {} } },
      rig.now,
    )
    // The write applies (it was received), but nobody is left to answer: today an `ack` goes to 'a'.
    expect(rig.engine.documentState('doc-1')).toEqual({ f: 1 })
    expect(after.filter((e) => e.kind === 'send' && e.to.includes('a'))).toEqual([])
  })
})

describe('fuzz regressions: limits bypassed', () => {
  it('awareness rooms count against maxDocumentsPerConnection', () => {
    const rig = new Rig({ limits: { maxDocumentsPerConnection: 2 } })
    rig.open('a')
    for (let i = 1; i <= 6; i++) {
      rig.send('a', { type: 'awareness_update', documentId: `doc-${i}`, clientId: 'k', clock: 1, state: {} })
    }
    // Subscriptions stop at 2 documents; presence rooms do not (6 today, without any error).
    expect(rig.engine.stats().awarenessClients).toBeLessThanOrEqual(2)
  })

  it('chunks received before authentication count against maxPreAuthBytes', () => {
    const rig = new Rig({ anonymous: false, limits: { maxPreAuthBytes: 4096 } })
    rig.open('a')
    const data = encodeBase64(new Uint8Array(3000))
    // Two incomplete sets of 3 chunks: 12,000 decoded bytes held for a connection that never authenticated.
    for (const chunkId of ['k1', 'k2']) {
      for (const chunkIndex of [0, 1]) {
        rig.send('a', { type: 'delta_batch_chunk', chunkId, totalChunks: 3, chunkIndex, data })
      }
    }
    // Plain pre-auth frames over 4096 bytes close the socket; chunks are held silently today.
    const refused = rig.effects.some(
      (e) => e.kind === 'close' || (e.kind === 'send' && e.message.type === 'error'),
    )
    expect(refused).toBe(true)
  })
})
