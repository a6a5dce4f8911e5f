import { describe, expect, it } from 'vitest'
import type { DocumentSnapshot, Register } from '../../src/crdt/types.js'
import { MemoryStore } from '../../src/server/index.js'
import { createSqliteStore } from '../../src/storage/sqlite.js'

function reg(
  field: string,
  value: Register['value'],
  ms: number,
  counter = 0,
  node = 'a',
  deleted = false,
): Register {
  return { field, value, deleted, stamp: { ms, counter, node }, dot: { node, seq: ms } }
}
function snap(registers: Register[], clock: Record<string, number> = {}): DocumentSnapshot {
  return { documentId: 'doc', registers, clock }
}
function fields(snapshot: DocumentSnapshot | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const r of snapshot?.registers ?? []) out[r.field] = r.deleted ? '<deleted>' : r.value
  return out
}

describe('MemoryStore', () => {
  it('returns undefined for unknown documents', async () => {
    expect(await new MemoryStore().load('nope')).toBeUndefined()
  })

  it('keeps the LWW winner per field: ms, then counter, then node', async () => {
    const store = new MemoryStore()
    await store.save([
      snap([reg('a', 'new', 20), reg('b', 'hi-counter', 10, 5), reg('c', 'node-b', 10, 0, 'b')]),
    ])
    await store.save([
      snap([reg('a', 'old', 10), reg('b', 'lo-counter', 10, 4), reg('c', 'node-a', 10, 0, 'a')]),
    ])
    expect(fields(await store.load('doc'))).toEqual({ a: 'new', b: 'hi-counter', c: 'node-b' })
  })

  it('keeps tombstones: a stale write cannot resurrect a deleted field', async () => {
    const store = new MemoryStore()
    await store.save([snap([reg('x', null, 30, 0, 'a', true)])])
    await store.save([snap([reg('x', 'stale', 20)])])
    expect(fields(await store.load('doc'))).toEqual({ x: '<deleted>' })
  })

  it('is idempotent and order-independent, and max-merges clocks', async () => {
    const batches = [
      snap([reg('a', 1, 10), reg('b', 1, 12)], { n1: 3, n2: 1 }),
      snap([reg('a', 2, 11), reg('c', 1, 5)], { n1: 2, n2: 4 }),
      snap([reg('b', 0, 9)], { n3: 1 }),
    ]
    const forward = new MemoryStore()
    for (const b of batches) await forward.save([b])
    await forward.save(batches) // replay everything
    const backward = new MemoryStore()
    for (const b of [...batches].reverse()) await backward.save([b])
    const f = await forward.load('doc')
    const r = await backward.load('doc')
    expect(fields(f)).toEqual({ a: 2, b: 1, c: 1 })
    expect(fields(r)).toEqual(fields(f))
    expect(f?.clock).toEqual({ n1: 3, n2: 4, n3: 1 })
    expect(r?.clock).toEqual(f?.clock)
  })

  it('never aliases caller objects in either direction', async () => {
    const store = new MemoryStore()
    const input = snap([reg('a', { nested: 1 }, 10)], { n: 1 })
    await store.save([input])
    ;(input.registers[0]?.value as { nested: number }).nested = 99
    input.clock.n = 50
    const loaded = await store.load('doc')
    expect(loaded?.registers[0]?.value).toEqual({ nested: 1 })
    expect(loaded?.clock).toEqual({ n: 1 })
    ;(loaded?.registers[0]?.value as { nested: number }).nested = 7
    expect((await store.load('doc'))?.registers[0]?.value).toEqual({ nested: 1 })
  })

  it('copies nested values, arrays and stamps, and keeps a "__proto__" key as data', async () => {
    const store = new MemoryStore()
    const value = JSON.parse('{"list":[{"deep":[1,2]}],"__proto__":{"polluted":true}}')
    const input = snap([reg('a', value, 10)])
    await store.save([input])
    value.list[0].deep.push(3)
    ;(input.registers[0] as Register).stamp.ms = 1
    ;(input.registers[0] as Register).dot.seq = 1
    const loaded = (await store.load('doc'))?.registers[0]
    expect(loaded?.value).toEqual(JSON.parse('{"list":[{"deep":[1,2]}],"__proto__":{"polluted":true}}'))
    expect(Object.getPrototypeOf(loaded?.value)).toBe(Object.prototype)
    expect(Object.hasOwn(loaded?.value as object, '__proto__')).toBe(true)
    expect(loaded?.stamp.ms).toBe(10)
    expect(loaded?.dot.seq).toBe(10)
  })

  it('stores documents independently and survives close()', async () => {
    const store = new MemoryStore()
    await store.save([{ documentId: 'one', registers: [reg('a', 1, 1)], clock: {} }])
    await store.save([{ documentId: 'two', registers: [reg('a', 2, 1)], clock: {} }])
    await store.close()
    expect(await store.health()).toBe(true)
    expect(store.documentIds().sort()).toEqual(['one', 'two'])
    expect(fields(await store.load('two'))).toEqual({ a: 2 })
  })
})

describe('MemoryStore.list and delete', () => {
  // Ids the SQL stores keep escaped (NUL, lone surrogates, a leading \u0001) and ids whose
  // UTF-8 order differs from JS string order: the memory store must page them exactly as the
  // embedded store does, so an export is the same bytes from either.
  const ids = ['a', 'a\u0000b', '\u0001x', 'lone\ud800', '\uff21', '😀', 'é', 'B', '']

  it('pages ids in the same order as the SQLite store, escaped keys included', async () => {
    const sqlite = await createSqliteStore({ dataDir: 'memory://' })
    const memory = new MemoryStore()
    try {
      for (const store of [sqlite, memory]) {
        await store.save(ids.map((documentId) => ({ documentId, registers: [reg('f', 1, 1)], clock: {} })))
      }
      const expected = await sqlite.list({ limit: 100 })
      expect(expected).toHaveLength(ids.length)
      expect(await memory.list({ limit: 100 })).toEqual(expected)
      for (const after of ids) {
        expect(await memory.list({ after, limit: 3 }), JSON.stringify(after)).toEqual(
          await sqlite.list({ after, limit: 3 }),
        )
      }
    } finally {
      await sqlite.close()
    }
  })

  it('sees documents saved and deleted after a list, and clamps the limit like the SQL stores', async () => {
    const store = new MemoryStore()
    await store.save([snap([reg('f', 1, 1)])])
    expect(await store.list()).toEqual(['doc'])
    await store.save([{ documentId: 'a-doc', registers: [], clock: { a: 1 } }])
    expect(await store.list()).toEqual(['a-doc', 'doc'])
    expect(await store.delete('a-doc')).toBe(true)
    expect(await store.delete('a-doc')).toBe(false)
    expect(await store.list()).toEqual(['doc'])
    await store.save(
      Array.from({ length: 150 }, (_, i) => ({ documentId: `d${i}`, registers: [], clock: {} })),
    )
    expect(await store.list()).toHaveLength(100)
    expect(await store.list({ limit: 0 })).toHaveLength(1)
    expect(await store.list({ limit: 20_000 })).toHaveLength(151)
  })
})
