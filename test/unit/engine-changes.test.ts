import { describe, expect, it } from 'vitest'
import type { EngineEvent } from '../../src/engine/types.js'
import { encodeFrame } from '../../src/protocol/index.js'
import { EngineHarness } from '../helpers/engine-harness.js'

function changes(h: EngineHarness) {
  return h.effects.flatMap((e) =>
    e.kind === 'emit' && e.event.type === 'document-change'
      ? [e.event as Extract<EngineEvent, { type: 'document-change' }>]
      : [],
  )
}

describe('document-change actors', () => {
  it('splits one turn with two writers into one event per writer, each with its own fields', () => {
    const h = new EngineHarness()
    h.open('a')
    h.open('b')
    h.send('a', 'subscribe', { documentId: 'd' })
    h.send('b', 'subscribe', { documentId: 'd' })
    h.receive('a', encodeFrame('delta', { documentId: 'd', delta: { x: 1, y: 1 } }, h.now, 'binary'))
    h.receive('b', encodeFrame('delta', { documentId: 'd', delta: { y: 2, z: 2 } }, h.now, 'binary'))
    h.receive('a', encodeFrame('delta', { documentId: 'd', delta: { w: 1 } }, h.now, 'binary'))
    h.flush()
    expect(
      changes(h).map((c) => [
        c.actor.kind === 'connection' ? c.actor.conn : c.actor.kind,
        c.registers.map((r) => r.field),
      ]),
    ).toEqual([
      ['a', ['x', 'w']],
      ['b', ['y', 'z']],
    ])
  })

  it('announces a write once: what a failed batch puts back is persisted again, not announced again', () => {
    const h = new EngineHarness({ autoSettle: false })
    h.open('a')
    h.send('a', 'subscribe', { documentId: 'd' })
    h.settle()
    const delta = (field: string) =>
      h.receive('a', encodeFrame('delta', { documentId: 'd', field, value: 1 }, h.now, 'binary'))
    delta('x')
    h.flush()
    // In the next turn: y applied, then x's batch fails and x goes back, then z applied.
    delta('y')
    expect(h.failPersist()).toBe(true)
    delta('z')
    h.flush()
    expect(changes(h).map((c) => c.registers.map((r) => r.field))).toEqual([['x'], ['y', 'z']])
    const batches = h.effects.flatMap((e) => (e.kind === 'persist' ? [e.documents] : []))
    expect(
      batches
        .at(-1)
        ?.flatMap((d) => d.registers.map((r) => r.field))
        .sort(),
    ).toEqual(['x', 'y', 'z'])
  })

  it('names the server for seeded fields and the remote node for cluster updates', () => {
    const h = new EngineHarness()
    h.open('a')
    h.send('a', 'subscribe', { documentId: 'd' })
    const remote = new EngineHarness({ nodeId: 'node-b' })
    remote.open('r')
    remote.send('r', 'delta', { documentId: 'd', delta: { f: 1 } })
    const registers = remote.published[0]?.registers ?? []
    h.apply(h.engine.resolve({ kind: 'remote-registers', documentId: 'd', registers }, h.now))
    h.flush()
    expect(changes(h).map((c) => [c.origin, c.actor])).toEqual([['remote', { kind: 'remote' }]])
  })
})
