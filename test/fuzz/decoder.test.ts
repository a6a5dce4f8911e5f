/**
 * Fuzz of the client-frame decoder alone: every generated frame (random bytes, binary frames with
 * bad codes / truncated headers / lying lengths / trailing bytes, JSON text frames, hostile
 * messages of every type) goes through `decodeClientFrame`, and chunk sets through the
 * reassembler. Nothing may throw, pollute a prototype, or yield a message that is not JSON.
 */
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import {
  ChunkAssembler,
  DEFAULT_MAX_FRAME_BYTES,
  decodeClientFrame,
  isClientMessageType,
  isValidDocumentId,
  typeFromCode,
  utf8Length,
} from '../../src/protocol/index.js'
import type { DecodeResult } from '../../src/protocol/types.js'
import { budget, CI, FUZZ_TIMEOUT_MS, seedFor } from './config.js'
import { anyFrame, chunkSet, type Frame, framedMessage } from './frames.js'
import {
  canonicalJson,
  check,
  checkNoPollution,
  nonJsonPath,
  preview,
  toleratedCounts,
  violation,
} from './invariants.js'

/** Runs per property (one frame per run; the chunk property feeds ~15 frames per run). */
const RUNS = budget(16_000, 2_500)
const MIXED_RUNS = budget(6_000, 1_000)
const CHUNK_RUNS = budget(2_000, 300)
let frames = 0

function decodeChecked(frame: Frame, maxFrameBytes?: number): DecodeResult {
  frames++
  const before = typeof frame === 'string' ? undefined : frame.slice()
  let result: DecodeResult
  try {
    result =
      maxFrameBytes === undefined ? decodeClientFrame(frame) : decodeClientFrame(frame, { maxFrameBytes })
  } catch (error) {
    violation('decoder-throws', `decodeClientFrame threw ${String(error)} on ${preview(frame)}`)
    throw error
  }
  const what = (): string => `${preview(frame)} -> ${preview(result)}`
  checkNoPollution(what)
  const bytes = typeof frame === 'string' ? utf8Length(frame) : frame.byteLength
  check(result.bytes === bytes, 'decoder-bytes', () => `bytes ${result.bytes} != ${bytes}: ${what()}`)
  const format = typeof frame === 'string' || frame[0] === 0x7b ? 'json' : 'binary'
  check(result.format === format, 'decoder-format', () => `format ${result.format} != ${format}: ${what()}`)
  if (before) {
    check(
      before.length === frame.length && before.every((b, i) => frame[i] === b),
      'decoder-mutates-input',
      what,
    )
  }
  const limit = maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
  if (bytes > limit) {
    check(!result.ok && result.error.message.startsWith('Message too large'), 'decoder-size-limit', what)
  }
  if (result.ok) {
    const { message } = result
    check(isClientMessageType(message.type), 'decoder-type', what)
    if (format === 'binary' && typeof frame !== 'string') {
      check(typeFromCode(frame[0] ?? -1) === message.type, 'decoder-type', what)
    }
    if ('documentId' in message && message.documentId !== undefined) {
      check(isValidDocumentId(message.documentId), 'decoder-document-id', what)
    }
    const bad = nonJsonPath(message)
    if (bad !== undefined) {
      violation(/Infinity|NaN/.test(bad) ? 'nonfinite-number' : 'non-json-message', `${bad}: ${what()}`)
    }
  } else {
    check(
      typeof result.error.message === 'string' && typeof result.error.code === 'string',
      'decoder-error-shape',
      what,
    )
  }
  // Deterministic: no hidden state (a global regex's lastIndex, a cache) changes the answer.
  const again =
    maxFrameBytes === undefined ? decodeClientFrame(frame) : decodeClientFrame(frame, { maxFrameBytes })
  check(canonicalJson(again) === canonicalJson(result), 'decoder-nondeterministic', what)
  return result
}

afterAll(() => {
  console.log(
    `fuzz decoder: ${frames} frames${toleratedCounts.size ? `, tolerated ${preview([...toleratedCounts])}` : ''}`,
  )
  // Part of the >= 100,000 frames of the CI run (with engine.test.ts and memory.test.ts).
  if (CI) expect(frames).toBeGreaterThanOrEqual(63_000)
})

describe('fuzz: decodeClientFrame', () => {
  it(
    'survives every kind of frame with the default limit',
    () => {
      fc.assert(
        fc.property(anyFrame(DEFAULT_MAX_FRAME_BYTES), (frame) => {
          decodeChecked(frame)
        }),
        { seed: seedFor('decoder/any'), numRuns: RUNS },
      )
    },
    FUZZ_TIMEOUT_MS,
  )

  it(
    'survives hostile messages of every type under a small frame limit',
    () => {
      fc.assert(
        fc.property(framedMessage(), fc.constantFrom(1, 13, 64, 200, 4096), (frame, maxFrameBytes) => {
          decodeChecked(frame, maxFrameBytes)
        }),
        { seed: seedFor('decoder/limit'), numRuns: RUNS },
      )
    },
    FUZZ_TIMEOUT_MS,
  )

  it(
    'survives frames mixed into one another (valid prefix, garbage tail and the reverse)',
    () => {
      fc.assert(
        fc.property(anyFrame(DEFAULT_MAX_FRAME_BYTES), anyFrame(4096), fc.nat(), (a, b, cut) => {
          const x = typeof a === 'string' ? new TextEncoder().encode(a) : a
          const y = typeof b === 'string' ? new TextEncoder().encode(b) : b
          const at = cut % (x.length + 1)
          const mixed = new Uint8Array(at + y.length)
          mixed.set(x.subarray(0, at))
          mixed.set(y, at)
          decodeChecked(mixed)
        }),
        { seed: seedFor('decoder/mixed'), numRuns: MIXED_RUNS },
      )
    },
    FUZZ_TIMEOUT_MS,
  )
})

describe('fuzz: chunk reassembly', () => {
  it(
    'keeps its bounds whatever chunk sets arrive',
    () => {
      const limits = { maxChunksPerSet: 16, maxSetBytes: 4096, maxSets: 2, timeoutMs: 1_000 }
      fc.assert(
        fc.property(
          fc.array(fc.tuple(chunkSet(anyFrame(8192)), fc.integer({ min: 0, max: 600 })), {
            minLength: 1,
            maxLength: 4,
          }),
          (sets) => {
            const assembler = new ChunkAssembler(limits)
            let now = 0
            let count = 0
            for (const [chunks, advance] of sets) {
              now += advance
              for (const chunk of chunks) {
                if (count++ >= 40) return
                const decoded = decodeChecked(chunk)
                if (!decoded.ok || decoded.message.type !== 'delta_batch_chunk') continue
                const outcome = assembler.add(decoded.message, now)
                check(assembler.size <= limits.maxSets, 'chunk-sets-bound', () => `${assembler.size} sets`)
                if (outcome.status === 'complete') {
                  const size =
                    typeof outcome.frame === 'string' ? utf8Length(outcome.frame) : outcome.frame.length
                  check(size <= limits.maxSetBytes, 'chunk-set-bytes', () => `${size} bytes reassembled`)
                  decodeChecked(outcome.frame, limits.maxSetBytes)
                }
              }
            }
            assembler.sweep(now + limits.timeoutMs)
            expect(assembler.size).toBe(0)
          },
        ),
        { seed: seedFor('decoder/chunks'), numRuns: CHUNK_RUNS },
      )
    },
    FUZZ_TIMEOUT_MS,
  )
})
