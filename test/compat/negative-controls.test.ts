/**
 * Negative controls: the compatibility checks fail when the server skips one of the three
 * behaviours SDK 0.1.1 needs (docs/protocol.md §10.2). Each control runs a scenario of the positive
 * suite twice: on a normal server (it passes) and on a server with the behaviour switched off
 * through a TEST-ONLY option (the SDK fails or diverges, and the scenario's check says so).
 *
 * `resendFieldsOnSubscribe: false` is a public server option. `testOnly.skipAcks` and
 * `testOnly.flatEchoClock` are TEST-ONLY options requested from the engine owner (see
 * `TestOnlyOptions` in harness.ts); while the server does not implement them it ignores them,
 * the SDK keeps working, and the two controls below FAIL on purpose until the options exist.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { describeError, Scope, startServer } from './harness.js'
import { ackedWriteScenario, freshClientScenario, historyClientScenario } from './scenarios.js'

const scope = new Scope()
afterEach(() => scope.close())

const DOC = 'control-doc'
/** Failing fast: the flipped runs only need to show the failure, not wait for a late recovery. */
const FAST = { timeoutMs: 1_500, ackTimeoutMs: 1_000 }

async function failureOf(run: Promise<unknown>): Promise<string> {
  return run.then(
    () => 'the scenario passed',
    (error: unknown) => describeError(error),
  )
}

describe('negative controls: the suite fails if the server skips a behaviour of docs/protocol.md §10.2', () => {
  it('without the ack, SDK set() rejects with "ACK timeout" (TEST-ONLY testOnly.skipAcks)', async () => {
    const normal = await startServer(scope)
    await ackedWriteScenario(scope, normal.url, DOC, FAST)

    // TEST-ONLY option, to be added to the engine: writes applied and echoed, never acked.
    const flipped = await startServer(scope, { testOnly: { skipAcks: true } })
    const failure = await failureOf(ackedWriteScenario(scope, flipped.url, DOC, FAST))
    expect(failure, 'server ignored testOnly.skipAcks (not implemented yet?)').toMatch(
      /writer: set\('acked'\) rejected: ACK timeout/,
    )
  })

  it('without the fields re-sent after sync_response, a fresh SDK client lacks fields (resendFieldsOnSubscribe: false)', async () => {
    const normal = await startServer(scope)
    await freshClientScenario(scope, normal.url, DOC, FAST)

    const flipped = await startServer(scope, { resendFieldsOnSubscribe: false })
    const failure = await failureOf(freshClientScenario(scope, flipped.url, DOC, FAST))
    expect(failure).toMatch(/Not converged/)
    expect(failure).toMatch(/fresh lacks field 'text'/)
    expect(failure).toMatch(/fresh lacks field 'title' \(server: "final title"\)/)
  })

  it('without a high-enough echo clock, an SDK client rejects the echo and diverges (TEST-ONLY testOnly.flatEchoClock)', async () => {
    const normal = await startServer(scope)
    await historyClientScenario(scope, normal.url, DOC, FAST)

    // TEST-ONLY option, to be added to the engine: echo clocks not lifted to the writers' counters.
    const flipped = await startServer(scope, { testOnly: { flatEchoClock: true } })
    const failure = await failureOf(historyClientScenario(scope, flipped.url, DOC, FAST))
    expect(failure, 'server ignored testOnly.flatEchoClock (not implemented yet?)').toMatch(
      /sdk-with-history has 'shared' = "from the client with history", server: "later write wins"/,
    )
  })
})
