import type { DocumentSnapshot, JsonValue, Register } from '../crdt/types.js'
import type { DocumentStore } from '../storage/store.js'
import {
  AWKWARD_STRINGS,
  JSON_VALUES,
  lwwFold,
  normalize,
  prng,
  register as reg,
  shuffle,
  sorted,
} from './store-fixtures.js'

/**
 * The acceptance suite every `DocumentStore` must pass (as Automerge Repo and Liveblocks ship for
 * their adapters). Framework-agnostic: pass vitest's or jest's `describe`/`it`/`expect`.
 *
 *   import { describe, expect, it } from 'vitest'
 *   defineDocumentStoreConformance({ describe, it, expect }, 'my store', async () => {
 *     const store = await openMyStore()
 *     return { store, cleanup: () => store.close() }
 *   })
 *
 * `factory` must return an EMPTY store; every case opens its own and cleans it up. `list` and
 * `delete` are checked only when the store implements them.
 */
export interface ConformanceMatchers {
  toBe(expected: unknown): void
  toEqual(expected: unknown): void
  toBeUndefined(): void
}

/** The test-framework functions the store suite uses (vitest, jest, node:test...). */
export interface ConformanceTestApi {
  /** Your framework's `describe`. */
  describe(name: string, fn: () => void): void
  /** Your framework's `it`. */
  it(name: string, fn: () => Promise<void>): void
  /** Your framework's `expect` (only `toBe` and `toEqual` are used). */
  expect(actual: unknown): ConformanceMatchers
  /** Accepted for signature compatibility; the suite does not need hooks. */
  beforeEach?: unknown
  /** Your framework's `afterEach`. */
  afterEach?: unknown
}

/** A store under test and how to clean it up. */
export interface StoreFixture {
  store: DocumentStore
  /** Closes the store and removes what it created. */
  cleanup(): Promise<void>
}

/** Defines the store acceptance suite with your test framework's functions. */
export function defineDocumentStoreConformance(
  t: ConformanceTestApi,
  name: string,
  factory: () => Promise<StoreFixture>,
): void {
  const { expect } = t
  const test = (title: string, body: (store: DocumentStore) => Promise<void>): void =>
    t.it(title, async () => {
      const fixture = await factory()
      try {
        await body(fixture.store)
      } finally {
        await fixture.cleanup()
      }
    })
  const doc = (
    documentId: string,
    registers: Register[],
    clock: Record<string, number> = {},
  ): DocumentSnapshot => ({
    documentId,
    registers,
    clock,
  })
  const expectRegisters = async (store: DocumentStore, id: string, expected: Register[]): Promise<void> => {
    const loaded = await store.load(id)
    expect(loaded === undefined ? undefined : sorted(loaded.registers)).toEqual(sorted(expected))
  }

  t.describe(`DocumentStore conformance: ${name}`, () => {
    test('load of an unknown document resolves undefined', async (store) => {
      expect(await store.load('never-saved')).toBeUndefined()
      await store.save([])
      expect(await store.load('never-saved')).toBeUndefined()
    })

    test('round-trips every JSON type exactly, falsy values included', async (store) => {
      const registers = JSON_VALUES.map(([field, value], i) => reg(field, value, { ms: 100 + i }))
      await store.save([doc('json', registers, { 'node-a': 200 })])
      expect(normalize(await store.load('json'))).toEqual(
        normalize(doc('json', registers, { 'node-a': 200 })),
      )
    })

    test('round-trips awkward strings as values and field names', async (store) => {
      const registers = AWKWARD_STRINGS.flatMap((s, i) => [
        reg(s, s, { ms: 10 + i }),
        reg(`value-${i}`, { [s]: [s] }, { ms: 10 + i }),
      ])
      await store.save([doc('strings', registers)])
      await expectRegisters(store, 'strings', registers)
    })

    test('keeps tombstones with their stamps; stale writes do not resurrect', async (store) => {
      const tombstone = reg('gone', null, { ms: 20, counter: 3, node: 'node-b', seq: 7, deleted: true })
      await store.save([doc('tomb', [reg('gone', 'v1', { ms: 10 }), tombstone])])
      await expectRegisters(store, 'tomb', [tombstone])
      await store.save([doc('tomb', [reg('gone', 'stale', { ms: 19 })])])
      await expectRegisters(store, 'tomb', [tombstone])
      const revived = reg('gone', false, { ms: 21 })
      await store.save([doc('tomb', [revived])])
      await expectRegisters(store, 'tomb', [revived])
    })

    test('an older stamp never overwrites a newer one, whatever the order', async (store) => {
      // [older, newer]: ms, then counter, then node id in JS `<` (byte) order, not locale order.
      const pairs: Array<[Register, Register]> = [
        [reg('f', 'old', { ms: 1 }), reg('f', 'new', { ms: 2 })],
        [reg('f', 'old', { ms: 5, counter: 1 }), reg('f', 'new', { ms: 5, counter: 2 })],
        [reg('f', 'old', { ms: 5, node: 'Z' }), reg('f', 'new', { ms: 5, node: 'a' })],
        [reg('f', 'old', { ms: 5, node: '9' }), reg('f', 'new', { ms: 5, node: 'A' })],
        [reg('f', 'old', { ms: 5, node: 'node-10' }), reg('f', 'new', { ms: 5, node: 'node-9' })],
        [reg('f', 'old', { ms: 5, node: 'a-b' }), reg('f', 'new', { ms: 5, node: 'a_b' })],
        [reg('f', 'old', { ms: 5, node: 'a' }), reg('f', 'new', { ms: 5, node: 'ab' })],
        [reg('f', 'old', { ms: 9, counter: 9, node: 'z' }), reg('f', 'new', { ms: 10, node: 'a' })],
      ]
      for (const [i, [older, newer]] of pairs.entries()) {
        await store.save([doc(`up-${i}`, [older])])
        await store.save([doc(`up-${i}`, [newer])])
        await store.save([doc(`down-${i}`, [newer])])
        await store.save([doc(`down-${i}`, [older])])
        await expectRegisters(store, `up-${i}`, [newer])
        await expectRegisters(store, `down-${i}`, [newer])
      }
    })

    test('concurrent saves from three nodes converge to the LWW winner', async (store) => {
      for (const seed of [1, 2, 3]) {
        const random = prng(seed)
        const nodes = ['node-a', 'node-b', 'node-c']
        const all: Register[] = []
        const batches: DocumentSnapshot[][] = nodes.map((node, n) => {
          const mine = Array.from({ length: 60 }, (_, i) => {
            const deleted = random() < 0.2
            return reg(`f${Math.floor(random() * 15)}`, deleted ? null : `${node}:${i}`, {
              ms: Math.floor(random() * 8),
              counter: i, // unique per node: stamps identify writes
              node,
              seq: i + 1,
              deleted,
            })
          })
          all.push(...mine)
          // Each node sends its writes in several concurrent batches, shuffled.
          const shuffled = shuffle(mine, random)
          return [0, 1, 2].map((k) =>
            doc(
              `conv-${seed}`,
              shuffled.filter((_, i) => i % 3 === k),
              { [node]: 60 + n },
            ),
          )
        })
        await Promise.all(shuffle(batches.flat(), random).map((batch) => store.save([batch])))
        const loaded = await store.load(`conv-${seed}`)
        expect(loaded === undefined ? undefined : sorted(loaded.registers)).toEqual(lwwFold(all))
        expect(loaded?.clock).toEqual({ 'node-a': 60, 'node-b': 61, 'node-c': 62 })
      }
    })

    test('replaying a save (or saving what was loaded) changes nothing', async (store) => {
      const batch = [
        doc('replay', [reg('a', 1, { ms: 3 }), reg('b', null, { ms: 4, deleted: true })], { 'node-a': 4 }),
      ]
      await store.save(batch)
      const first = normalize(await store.load('replay'))
      await store.save(batch)
      await store.save(batch)
      if (first !== undefined) await store.save([first])
      expect(normalize(await store.load('replay'))).toEqual(first)
    })

    test('vector clocks are max-merged per node', async (store) => {
      await store.save([doc('clock', [], { a: 5, b: 1 })])
      await store.save([doc('clock', [], { a: 3, c: 2 })])
      await store.save([doc('clock', [], { b: 9 })])
      expect((await store.load('clock'))?.clock).toEqual({ a: 5, b: 9, c: 2 })
    })

    test('saves several documents in one call, merging duplicates within the batch', async (store) => {
      const newer = reg('x', 'newer', { ms: 9 })
      await store.save([
        doc('multi-1', [reg('x', 1, { ms: 1 }), reg('y', 2, { ms: 1 })], { a: 1 }),
        doc('multi-2', [reg('x', 'two', { ms: 1 })], { b: 1 }),
        doc('multi-1', [newer, reg('x', 'older', { ms: 2 })], { a: 7 }),
      ])
      await expectRegisters(store, 'multi-1', [newer, reg('y', 2, { ms: 1 })])
      expect((await store.load('multi-1'))?.clock).toEqual({ a: 7 })
      await expectRegisters(store, 'multi-2', [reg('x', 'two', { ms: 1 })])
    })

    test('a field, a value key and a clock entry named __proto__ stay own data', async (store) => {
      const clock: Record<string, number> = {}
      Object.defineProperty(clock, '__proto__', {
        value: 3,
        enumerable: true,
        writable: true,
        configurable: true,
      })
      const value = JSON.parse('{"__proto__":{"polluted":true}}') as JsonValue
      await store.save([doc('proto', [reg('__proto__', value, { ms: 1 })], clock)])
      const loaded = await store.load('proto')
      const r = loaded?.registers[0]
      expect(r?.field).toBe('__proto__')
      expect(JSON.stringify(r?.value)).toBe('{"__proto__":{"polluted":true}}')
      expect(loaded !== undefined && Object.hasOwn(loaded.clock, '__proto__')).toBe(true)
      expect(loaded === undefined ? undefined : Object.getPrototypeOf(loaded.clock)).toBe(Object.prototype)
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    })

    test('returned snapshots are copies, and saved input is not retained', async (store) => {
      const input = doc('copies', [reg('a', { list: [1] }, { ms: 1 })], { n: 1 })
      await store.save([input])
      const expected = normalize(structuredClone(input))
      const first = await store.load('copies')
      if (first?.registers[0] !== undefined) {
        first.registers[0].value = 'mutated'
        first.registers.push(reg('b', 1, { ms: 1 }))
        first.clock.n = 99
      }
      ;(input.registers[0]?.value as { list: number[] } | undefined)?.list.push(2)
      input.clock.n = 42
      expect(normalize(await store.load('copies'))).toEqual(expected)
    })

    test('list pages through document ids in byte order (if implemented)', async (store) => {
      if (store.list === undefined) return
      const ids = ['b', 'a', 'B', 'a-1', 'a_1', 'z9', 'z10']
      await store.save(ids.map((id) => doc(id, [reg('f', id, { ms: 1 })])))
      const expected = [...ids].sort()
      expect(await store.list({ limit: 100 })).toEqual(expected)
      const paged: string[] = []
      for (let after: string | undefined; ; ) {
        const page = await store.list(after === undefined ? { limit: 3 } : { limit: 3, after })
        paged.push(...page)
        if (page.length < 3) break
        after = page[page.length - 1]
      }
      expect(paged).toEqual(expected)
    })

    test('list keeps to a prefix, paging with after and limit (if implemented)', async (store) => {
      if (store.list === undefined) return
      const ids = ['a', 'b', 'b:1', 'b:2', 'b:3', 'b:30', 'ba', 'c']
      await store.save(ids.map((id) => doc(id, [reg('f', 1, { ms: 1 })])))
      expect(await store.list({ prefix: 'b:' })).toEqual(['b:1', 'b:2', 'b:3', 'b:30'])
      expect(await store.list({ prefix: 'b:', limit: 2 })).toEqual(['b:1', 'b:2'])
      expect(await store.list({ prefix: 'b:', after: 'b:2', limit: 2 })).toEqual(['b:3', 'b:30'])
      expect(await store.list({ prefix: 'b:', after: 'b:30' })).toEqual([])
      // `after` below the prefix starts at the prefix; above every match, nothing.
      expect(await store.list({ prefix: 'b', after: 'a', limit: 100 })).toEqual([
        'b',
        'b:1',
        'b:2',
        'b:3',
        'b:30',
        'ba',
      ])
      expect(await store.list({ prefix: 'b:', after: 'c' })).toEqual([])
      expect(await store.list({ prefix: 'zz' })).toEqual([])
    })

    test('list orders non-ASCII ids by their UTF-8 bytes, not UTF-16 code units (if implemented)', async (store) => {
      if (store.list === undefined) return
      // UTF-8: é = C3 A9, Ａ (U+FF21) = EF BC A1, 😀 (U+1F600) = F0 9F 98 80. JS `<` puts 😀
      // (a surrogate pair, D83D DE00) before Ａ.
      const expected = ['a', 'z', 'é', 'Ａ', '😀']
      await store.save(shuffle(expected, prng(7)).map((id) => doc(id, [reg('f', 1, { ms: 1 })])))
      expect(await store.list({ limit: 100 })).toEqual(expected)
      expect(await store.list({ after: 'Ａ' })).toEqual(['😀'])
      expect(await store.list({ after: 'é', limit: 1 })).toEqual(['Ａ'])
    })

    test('delete removes registers and clock (if implemented)', async (store) => {
      if (store.delete === undefined) return
      await store.save([
        doc('del', [reg('f', 1, { ms: 1 })], { a: 1 }),
        doc('keep', [reg('f', 2, { ms: 1 })]),
      ])
      expect(await store.delete('del')).toBe(true)
      expect(await store.load('del')).toBeUndefined()
      expect(await store.delete('del')).toBe(false)
      if (store.list !== undefined) expect(await store.list()).toEqual(['keep'])
      await expectRegisters(store, 'keep', [reg('f', 2, { ms: 1 })])
      // A deleted document starts afresh: an old stamp is accepted again.
      await store.save([doc('del', [reg('f', 'again', { ms: 0 })])])
      await expectRegisters(store, 'del', [reg('f', 'again', { ms: 0 })])
    })

    test('loads a document with 2,000 fields', async (store) => {
      const registers = Array.from({ length: 2000 }, (_, i) =>
        reg(`field-${i}`, i % 7 === 0 ? null : i, { ms: i }),
      )
      await store.save([doc('big', registers, { 'node-a': 2000 })])
      const loaded = await store.load('big')
      expect(loaded?.registers.length).toBe(2000)
      expect(normalize(loaded)).toEqual(normalize(doc('big', registers, { 'node-a': 2000 })))
    })
  })
}
