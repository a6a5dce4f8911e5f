import fc from 'fast-check'
import { expect } from 'vitest'
import type { DocumentSnapshot, JsonValue } from '../../src/crdt/types.js'
import type { DocumentStore } from '../../src/server/options.js'
import { StoreError } from '../../src/storage/errors.js'
import { register, sorted } from '../../src/testing/store-fixtures.js'

/** Checks shared by the store-specific test files (the conformance suite holds the contract). */

/** `n` registers, every other one null, stamps from `ms`. */
export const snapshot = (documentId: string, n: number, ms = 1): DocumentSnapshot => ({
  documentId,
  registers: Array.from({ length: n }, (_, i) => register(`f${i}`, i % 2 === 0 ? i : null, { ms: ms + i })),
  clock: { 'node-a': ms + n },
})

/** The `StoreError` `promise` rejects with (fails the test if it resolves or rejects otherwise). */
export async function storeRejection(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(error instanceof StoreError)) throw new Error(`expected a StoreError, got ${String(error)}`)
  return error
}

/** Property: any field name, document id and value round-trips exactly through `store`. */
export async function roundTripsAnyKeyAndValue(store: DocumentStore, numRuns: number): Promise<void> {
  const unit = fc.oneof(
    fc.constantFrom('\u0000', '\ud800', '\udc00', '\u0001', '\\', '"', '😀'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  )
  const text = fc.string({ unit, maxLength: 8 })
  const value = fc
    .oneof(fc.jsonValue({ maxDepth: 2 }), text, fc.dictionary(text, text))
    .map((v) => v as JsonValue)
  let run = 0
  await fc.assert(
    fc.asyncProperty(
      text,
      fc.uniqueArray(fc.tuple(text, value), { selector: ([f]) => f, maxLength: 30 }),
      async (idSuffix, pairs) => {
        const documentId = `prop-${run++}-${idSuffix}`
        const registers = pairs.map(([f, v], i) => register(f, v, { ms: i + 1 }))
        await store.save([{ documentId, registers, clock: {} }])
        const loaded = await store.load(documentId)
        expect(sorted(loaded?.registers ?? [])).toEqual(sorted(JSON.parse(JSON.stringify(registers))))
      },
    ),
    { numRuns },
  )
}

/** Saves and loads (3×) a 10,000-field document; returns the timings in ms. */
export async function bigDocumentRoundTrip(
  store: DocumentStore,
): Promise<{ saveMs: number; loadMs: number[] }> {
  const registers = Array.from({ length: 10_000 }, (_, i) =>
    register(`field-${i}`, i % 5 === 0 ? { nested: [i, null, ''] } : `value-${i}`, { ms: i + 1 }),
  )
  let t = performance.now()
  await store.save([{ documentId: 'big', registers, clock: { 'node-a': 10_000 } }])
  const saveMs = performance.now() - t
  const loadMs: number[] = []
  let loaded: DocumentSnapshot | undefined
  for (let i = 0; i < 3; i++) {
    t = performance.now()
    loaded = await store.load('big')
    loadMs.push(performance.now() - t)
  }
  expect(sorted(loaded?.registers ?? [])).toEqual(sorted(registers))
  return { saveMs, loadMs }
}
