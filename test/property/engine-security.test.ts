/**
 * The security rules of docs/security.md ("Rules a hostile client cannot break"), as one property:
 * an honest world (two users and a client on another node) plus one hostile connection whose
 * principal may read some documents, write one it may not read, and do nothing with the others,
 * sending anything at all: every message type, any document, forged client ids and clocks,
 * relayed ops naming other documents, chunk sets, floods of pings and garbage, re-authentication.
 * After every step (test/helpers/hostile-world.ts, `SecurityWorld.check`):
 *
 * - the hostile connection never receives a value, text state, clock or presence of a document
 *   it may not read (nor any honest value of one, wherever it might hide);
 * - no document it may not write changes, no field or op a field policy refuses it is applied,
 *   and no write of which nothing was applied is acked;
 * - the presence others see for a client id is only ever set by that id's owner, and no clock
 *   moves by more than `maxAwarenessClockStep` at once;
 * - relayed and kept ops name their batch's document and a client id their sender owns;
 * - what the engine holds for the hostile connection, its documents and presence rooms stays
 *   within the limits, and in any minute it answers at most what the connection's buckets hold;
 * - the honest clients' replicas equal the engine's state.
 */
import fc from 'fast-check'
import { describe, it } from 'vitest'
import { hostileSend, presenceState, validClientId, WORLD_DOCS } from '../helpers/hostile-frames.js'
import { SecurityWorld, type Step } from '../helpers/hostile-world.js'

const NUM_RUNS = Number(process.env.RUNS ?? (process.env.CI ? 1000 : 200))

const user = fc.constantFrom('alice' as const, 'bob' as const)
const doc = fc.constantFrom(...WORLD_DOCS)
/** Every step takes a second or two: the honest clients stay well within their message budget. */
const pace = fc.integer({ min: 1_000, max: 2_500 })

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant('hostile' as const),
      send: hostileSend,
      advanceMs: fc.integer({ min: 0, max: 2_500 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('write' as const),
      user,
      doc,
      field: fc.constantFrom('a', 'b', 'locked', 'secret'),
      remove: fc.boolean(),
      advanceMs: pace,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('presence' as const), user, doc, advanceMs: pace }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('leave' as const),
      user,
      // Where the hostile can see presence, so it can try to take the id while it is free.
      doc: fc.constantFrom('open' as const, 'read' as const),
      advanceMs: pace,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('late-join' as const),
      user,
      doc: fc.constantFrom('open' as const, 'open' as const, 'read' as const, 'drop' as const),
      advanceMs: pace,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('squat-free' as const),
      clock: fc.constantFrom(1_005, 2 ** 48 - 1),
      advanceMs: fc.integer({ min: 0, max: 2_500 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('remote-hostile' as const),
      doc: fc.constantFrom('open' as const, 'read' as const),
      // Mostly its own few ids there (so its updates meet), sometimes someone else's.
      clientId: fc.oneof(fc.constantFrom('m-1', 'm-2'), validClientId),
      state: presenceState,
      firstClock: fc.constantFrom(1, 8, 1_005, 2 ** 48 - 1),
      clockStep: fc.constantFrom(1, 1, 1_001, 5_000),
      advanceMs: fc.integer({ min: 0, max: 2_500 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('text' as const), user, doc, advanceMs: pace }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('remote-presence' as const), doc, advanceMs: pace }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('time' as const),
      advanceMs: fc.integer({ min: 10_000, max: 40_000 }),
    }),
  },
)

describe('engine security (one hostile connection, property)', () => {
  it('no hostile frame breaks a security rule, and the honest clients converge', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(stepArb, { minLength: 1, maxLength: 60 }),
        (anonymousHostile, steps) => {
          const world = new SecurityWorld(anonymousHostile)
          for (const step of steps) world.run(step)
        },
      ),
      { numRuns: NUM_RUNS },
    )
  }, 55_000)
})
