/**
 * Fuzz of the engine: runs of hostile frames on several connections, interleaved with time,
 * ticks, flushes, closes, revocations and runtime answers (loads, persists, authentications)
 * arriving late, out of order or failing. After every step the driver checks that no exception
 * escaped a handler (no INTERNAL), that every message sent re-encodes and decodes in both wire
 * formats, that nothing leaks to unauthenticated or unauthorised connections, and that the
 * engine's books balance (see driver.ts).
 */
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { budget, CI, FUZZ_TIMEOUT_MS, seedFor } from './config.js'
import { commandsArb, type DriverConfig, FuzzDriver } from './driver.js'
import { preview, toleratedCounts } from './invariants.js'

/** Tight limits: every quota, cap and timeout is reachable within a short run. */
const TIGHT = {
  maxFrameBytes: 65_536,
  maxMessagesPerMinute: 40,
  maxMessagesPerMinutePerUser: 60,
  maxPreAuthFrames: 4,
  maxPreAuthBytes: 4_096,
  authTimeoutMs: 1_500,
  maxParkedPerDocument: 3,
  maxDocumentsPerConnection: 3,
  maxFieldsPerDocument: 6,
  maxFieldValueBytes: 512,
  maxAwarenessStateBytes: 256,
  awarenessTimeoutMs: 2_000,
  maxAwarenessClientsPerDocument: 2,
  maxTextStatesPerDocument: 2,
  maxIdleDocuments: 2,
  maxChunksPerSet: 6,
  maxChunkSetBytes: 8_192,
  maxChunkSetsPerConnection: 2,
  chunkSetTimeoutMs: 1_000,
}

const CONFIGS: DriverConfig[] = [
  { name: 'anonymous, default limits', anonymous: true, durableAcks: true, resendFieldsOnSubscribe: false },
  {
    name: 'anonymous, tight limits',
    anonymous: true,
    durableAcks: false,
    resendFieldsOnSubscribe: true,
    limits: TIGHT,
  },
  {
    name: 'auth required, default limits',
    anonymous: false,
    durableAcks: true,
    resendFieldsOnSubscribe: false,
  },
  {
    name: 'auth required, tight limits',
    anonymous: false,
    durableAcks: true,
    resendFieldsOnSubscribe: true,
    limits: TIGHT,
  },
]

/** Runs per configuration; a run is 10-60 commands (about 0.8 frame per command). */
const RUNS = budget(450, 90)
const COMMANDS = { minLength: 10, maxLength: 60 }

let frames = 0
afterAll(() => {
  console.log(
    `fuzz engine: ${frames} frames${toleratedCounts.size ? `, tolerated ${preview([...toleratedCounts])}` : ''}`,
  )
  // Part of the >= 100,000 frames of the CI run (with decoder.test.ts and memory.test.ts).
  if (CI) expect(frames).toBeGreaterThanOrEqual(27_000)
})

describe.each(CONFIGS)('fuzz: engine ($name)', (config) => {
  it(
    'keeps its invariants through hostile runs',
    () => {
      fc.assert(
        fc.property(commandsArb(config, COMMANDS), fc.boolean(), (commands, autoSettle) => {
          const driver = new FuzzDriver(config, { autoSettle })
          try {
            for (const command of commands) driver.run(command)
            driver.finish()
          } finally {
            frames += driver.frames
          }
        }),
        { seed: seedFor(`engine/${config.name}`), numRuns: RUNS },
      )
    },
    FUZZ_TIMEOUT_MS,
  )
})
