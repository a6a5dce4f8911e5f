import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ReplyLedger } from '../../src/server/reply-ledger.js'

type Step = { kind: 'write'; bytes: number; reply: boolean } | { kind: 'drain'; bytes: number }

/** Reference: the transport buffer as an explicit FIFO of (bytes left, reply). */
function referencePending(steps: Step[]): number[] {
  const fifo: { left: number; reply: boolean }[] = []
  const out: number[] = []
  for (const step of steps) {
    if (step.kind === 'write') fifo.push({ left: step.bytes, reply: step.reply })
    else {
      let drain = step.bytes
      while (drain > 0 && fifo.length > 0) {
        const head = fifo[0] as { left: number; reply: boolean }
        const taken = Math.min(drain, head.left)
        head.left -= taken
        drain -= taken
        if (head.left === 0) fifo.shift()
      }
    }
    out.push(fifo.filter((w) => w.reply).reduce((sum, w) => sum + w.left, 0))
  }
  return out
}

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('write' as const),
    bytes: fc.integer({ min: 1, max: 50 }),
    reply: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('drain' as const), bytes: fc.integer({ min: 0, max: 48 }) }),
)

describe('ReplyLedger', () => {
  it('knows how many reply bytes a FIFO transport buffer still holds', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 6000, maxLength: 8000 }), (steps) => {
        const ledger = new ReplyLedger()
        let written = 0
        let drained = 0
        const actual: number[] = []
        for (const s of steps) {
          if (s.kind === 'write') {
            ledger.wrote(s.bytes, s.reply)
            written += s.bytes
          } else drained = Math.min(written, drained + s.bytes)
          actual.push(ledger.pending(written - drained))
        }
        expect(actual).toEqual(referencePending(steps))
      }),
      { numRuns: 20 },
    )
  })
})
