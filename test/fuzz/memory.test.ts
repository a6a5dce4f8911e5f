/**
 * Memory under a long hostile run with the default limits. The run is played twice on one
 * engine: the second pass writes the very same fields, values, presence and text states as the
 * first, so the documents hold no more data after it than after the first pass. Heap growth
 * across the second pass is therefore retention per frame (a leak), not stored data, and must be
 * small; the engine's own sizes must be back to their bounds once every connection has closed.
 */
import v8 from 'node:v8'
import vm from 'node:vm'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DEFAULT_LIMITS } from '../../src/engine/index.js'
import { budget, FUZZ_TIMEOUT_MS, seedFor } from './config.js'
import { type Command, FuzzDriver, SLOTS } from './driver.js'
import { anyFrame, type Frame } from './frames.js'
import { preview, toleratedCounts } from './invariants.js'

/** Frames per pass (two passes). */
const FRAMES = budget(5_000, 2_000)
const MiB = 1024 * 1024

/** `global.gc` without `--expose-gc` on the command line (vitest owns the worker's argv). */
function collector(): (() => void) | undefined {
  v8.setFlagsFromString('--expose-gc')
  const gc: unknown = vm.runInNewContext('gc')
  if (typeof gc !== 'function') return undefined
  return () => {
    gc()
    gc()
  }
}

function heapAfterGc(gc: (() => void) | undefined): number {
  gc?.()
  return process.memoryUsage().heapUsed
}

/** The fixed command script: frames on rotating connections, ticks, and connection churn. */
function script(): Command[] {
  const frames: Frame[] = []
  const batch = 500
  for (let i = 0; frames.length < FRAMES; i++) {
    frames.push(
      ...fc.sample(anyFrame(DEFAULT_LIMITS.maxFrameBytes, undefined, false), {
        seed: seedFor('memory/frames') + i,
        numRuns: Math.min(batch, FRAMES - frames.length),
      }),
    )
  }
  const commands: Command[] = []
  frames.forEach((frame, i) => {
    // 150 ms per frame: 400 messages a minute, under the default 500, so most are accepted.
    commands.push({ kind: 'frame', slot: i % SLOTS, frame, advanceMs: 150, flush: true })
    if (i % 100 === 99) commands.push({ kind: 'tick', advanceMs: 0 })
    if (i % 700 === 699) commands.push({ kind: 'close', slot: Math.floor(i / 700) % SLOTS })
  })
  return commands
}

describe('fuzz: memory', () => {
  it(
    'stays bounded over a long hostile run with the default limits',
    async () => {
      const gc = collector()
      const commands = script()
      const driver = new FuzzDriver(
        { name: 'memory', anonymous: true, durableAcks: true, resendFieldsOnSubscribe: false },
        { autoSettle: true, checkDocumentsEveryStep: false },
      )
      const pass = async (): Promise<void> => {
        for (let i = 0; i < commands.length; i++) {
          const command = commands[i]
          if (command) driver.run(command)
          if (i % 250 === 0) {
            driver.checkAllDocuments()
            // Let the worker answer vitest's RPC during a long synchronous run.
            await new Promise((resolve) => setImmediate(resolve))
          }
        }
        driver.finish()
      }

      const start = heapAfterGc(gc)
      await pass()
      const afterFirst = heapAfterGc(gc)
      const statsFirst = driver.engine.stats()
      const documentsFirst = driver.engine.documentIds().length
      await pass()
      const afterSecond = heapAfterGc(gc)
      const statsSecond = driver.engine.stats()

      const mib = (n: number): string => `${(n / MiB).toFixed(1)} MiB`
      console.log(
        `fuzz memory: ${driver.frames} frames; heap ${mib(start)} -> ${mib(afterFirst)} (first pass) -> ` +
          `${mib(afterSecond)} (replay${gc ? '' : ', no gc'}); ${documentsFirst} documents` +
          (toleratedCounts.size ? `; tolerated ${preview([...toleratedCounts])}` : ''),
      )

      expect(driver.frames).toBe(2 * FRAMES)
      // Everything closed: nothing per connection remains, and documents are within the LRU cap.
      for (const stats of [statsFirst, statsSecond]) {
        expect(stats).toMatchObject({
          connections: 0,
          authenticatedConnections: 0,
          subscriptions: 0,
          awarenessClients: 0,
          pendingPersistBatches: 0,
        })
        expect(stats.documents).toBeLessThanOrEqual(DEFAULT_LIMITS.maxIdleDocuments)
      }
      // The replay stores nothing new: same documents, and (almost) no heap growth.
      expect(statsSecond.documents).toBe(statsFirst.documents)
      expect(Object.keys(driver.engine.inboundCounters().messages).length).toBeLessThanOrEqual(20)
      expect(afterSecond - afterFirst, 'heap growth over the replay').toBeLessThan(8 * MiB)
      // Generous bound on everything the first pass may legitimately keep (documents, store).
      expect(afterFirst - start, 'heap growth over the first pass').toBeLessThan(384 * MiB)
    },
    FUZZ_TIMEOUT_MS,
  )
})
