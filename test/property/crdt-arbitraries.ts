import fc from 'fast-check'
import type { JsonValue, Register, Stamp, VectorClock } from '../../src/crdt/index.js'

/** Small pools so collisions (equal ms, counter, node, field) are frequent. */
export const nodeArb = fc.constantFrom('a', 'b', 'c', 'n-10', 'n-9', '__proto__')
export const fieldArb = fc.constantFrom('x', 'y', 'z', '__proto__', 'constructor')

export const stampArb: fc.Arbitrary<Stamp> = fc.record({
  ms: fc.integer({ min: 0, max: 4 }),
  counter: fc.integer({ min: 0, max: 3 }),
  node: nodeArb,
})

/** JSON round-tripped so values are exactly what the wire can carry (no -0). */
export const jsonArb: fc.Arbitrary<JsonValue> = fc
  .jsonValue({ maxDepth: 2 })
  .map((v) => JSON.parse(JSON.stringify(v)) as JsonValue)

export const registerArb = (field: fc.Arbitrary<string> = fieldArb): fc.Arbitrary<Register> =>
  fc
    .record({
      field,
      value: fc.oneof(jsonArb, fc.constantFrom<JsonValue>(null, 'same', 1)),
      deleted: fc.boolean(),
      stamp: stampArb,
      seq: fc.integer({ min: 1, max: 5 }),
    })
    .map(({ field, value, deleted, stamp, seq }) => ({
      field,
      value: deleted ? null : value,
      deleted,
      stamp,
      dot: { node: stamp.node, seq },
    }))

/** Clocks as JSON.parse would build them: a `__proto__` key is an own entry. */
export const clockArb: fc.Arbitrary<VectorClock> = fc
  .array(fc.tuple(nodeArb, fc.integer({ min: 0, max: 6 })), { maxLength: 6 })
  .map((entries) => Object.fromEntries(entries))
