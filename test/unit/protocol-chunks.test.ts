import { describe, expect, it } from 'vitest'
import {
  ChunkAssembler,
  type ChunkLimits,
  type DeltaBatchChunkMessage,
  decodeClientFrame,
  encodeBase64,
  encodeFrame,
} from '../../src/protocol/index.js'

const limits: ChunkLimits = { maxChunksPerSet: 8, maxSetBytes: 1000, maxSets: 2, timeoutMs: 30_000 }

function chunk(
  chunkId: string,
  chunkIndex: number,
  totalChunks: number,
  bytes: Uint8Array,
): DeltaBatchChunkMessage {
  return {
    type: 'delta_batch_chunk',
    timestamp: 0,
    chunkId,
    chunkIndex,
    totalChunks,
    data: encodeBase64(bytes),
  }
}
function split(bytes: Uint8Array, parts: number): Uint8Array[] {
  const size = Math.ceil(bytes.length / parts)
  return Array.from({ length: parts }, (_, i) => bytes.subarray(i * size, (i + 1) * size))
}

const batchFrame = encodeFrame(
  'delta_batch',
  { documentId: 'doc', deltas: [{ field: 'f', value: 'x'.repeat(50) }], messageId: 'm' },
  7,
  'binary',
) as Uint8Array

describe('ChunkAssembler', () => {
  it('reassembles a binary frame from out-of-order chunks, which then decodes', () => {
    const a = new ChunkAssembler(limits)
    const parts = split(batchFrame, 3)
    expect(a.add(chunk('c', 2, 3, parts[2]!), 0)).toEqual({ status: 'pending' })
    expect(a.add(chunk('c', 0, 3, parts[0]!), 1)).toEqual({ status: 'pending' })
    expect(a.size).toBe(1)
    const done = a.add(chunk('c', 1, 3, parts[1]!), 2)
    expect(done).toEqual({ status: 'complete', frame: batchFrame })
    expect(a.size).toBe(0)
    if (done.status !== 'complete') return
    expect(decodeClientFrame(done.frame)).toMatchObject({
      ok: true,
      message: { type: 'delta_batch', documentId: 'doc' },
    })
  })

  it('hands back a JSON frame as a string', () => {
    const json = '{"type":"ping","id":"é"}'
    const a = new ChunkAssembler(limits)
    const [p0, p1] = split(new TextEncoder().encode(json), 2)
    a.add(chunk('j', 0, 2, p0!), 0)
    expect(a.add(chunk('j', 1, 2, p1!), 0)).toEqual({ status: 'complete', frame: json })
  })

  it('keeps the first copy of a duplicate chunk', () => {
    const a = new ChunkAssembler(limits)
    const parts = split(batchFrame, 2)
    a.add(chunk('c', 0, 2, parts[0]!), 0)
    expect(a.add(chunk('c', 0, 2, new Uint8Array([1, 2, 3])), 0)).toEqual({ status: 'pending' })
    expect(a.add(chunk('c', 1, 2, parts[1]!), 0)).toEqual({ status: 'complete', frame: batchFrame })
  })

  it('refuses sets with more chunks than allowed', () => {
    const a = new ChunkAssembler(limits)
    expect(a.add(chunk('c', 0, 9, new Uint8Array([1])), 0)).toEqual({
      status: 'error',
      error: { message: 'Chunk set too large', code: 'LIMIT_EXCEEDED', type: 'delta_batch_chunk' },
    })
    expect(a.size).toBe(0)
  })

  it('drops a set whose bytes exceed the limit', () => {
    const a = new ChunkAssembler(limits)
    expect(a.add(chunk('c', 0, 2, new Uint8Array(600)), 0)).toEqual({ status: 'pending' })
    expect(a.add(chunk('c', 1, 2, new Uint8Array(401)), 0)).toEqual({
      status: 'error',
      error: { message: 'Chunk set too large', code: 'LIMIT_EXCEEDED', type: 'delta_batch_chunk' },
    })
    expect(a.size).toBe(0)
    // exactly at the limit is fine
    a.add(chunk('d', 0, 2, new Uint8Array(600).fill(1)), 0)
    expect(a.add(chunk('d', 1, 2, new Uint8Array(400).fill(1)), 0)).toMatchObject({ status: 'complete' })
  })

  it('limits concurrent sets, freeing room by expiry', () => {
    const a = new ChunkAssembler(limits)
    a.add(chunk('a', 0, 2, new Uint8Array([1])), 0)
    a.add(chunk('b', 0, 2, new Uint8Array([1])), 10)
    expect(a.add(chunk('c', 0, 2, new Uint8Array([1])), 20)).toEqual({
      status: 'error',
      error: { message: 'Too many pending chunk sets', code: 'LIMIT_EXCEEDED', type: 'delta_batch_chunk' },
    })
    // chunks of an existing set are still accepted
    expect(a.add(chunk('a', 1, 2, new Uint8Array([2])), 20)).toMatchObject({ status: 'complete' })
    a.add(chunk('a2', 0, 2, new Uint8Array([1])), 25)
    // at 30 000 ms 'b' (10) is still young, 'a2' (25) too: full
    expect(a.add(chunk('c', 0, 2, new Uint8Array([1])), 30_000).status).toBe('error')
    // once 'b' expires there is room again
    expect(a.add(chunk('c', 0, 2, new Uint8Array([1])), 30_010)).toEqual({ status: 'pending' })
    expect(a.size).toBe(2)
  })

  it('rejects a chunk whose totalChunks disagrees with its set', () => {
    const a = new ChunkAssembler(limits)
    a.add(chunk('c', 0, 3, new Uint8Array([1])), 0)
    expect(a.add(chunk('c', 1, 2, new Uint8Array([1])), 0)).toEqual({
      status: 'error',
      error: {
        message: 'Chunk set mismatch: totalChunks differs',
        code: 'INVALID_MESSAGE',
        type: 'delta_batch_chunk',
      },
    })
    expect(a.size).toBe(1)
  })

  it('rejects invalid base64 and out-of-range indexes without creating a set', () => {
    const a = new ChunkAssembler(limits)
    const bad = { ...chunk('c', 0, 2, new Uint8Array()), data: '!!!' }
    expect(a.add(bad, 0)).toEqual({
      status: 'error',
      error: { message: 'Invalid chunk data', code: 'INVALID_MESSAGE', type: 'delta_batch_chunk' },
    })
    expect(a.add(chunk('c', 2, 2, new Uint8Array([1])), 0)).toMatchObject({
      status: 'error',
      error: { message: 'Invalid message format' },
    })
    expect(a.size).toBe(0)
  })

  it('rejects a completed JSON-looking frame that is not UTF-8', () => {
    const a = new ChunkAssembler(limits)
    expect(a.add(chunk('c', 0, 1, new Uint8Array([0x7b, 0xff])), 0)).toMatchObject({
      status: 'error',
      error: { message: 'Invalid message format', code: 'INVALID_MESSAGE' },
    })
  })

  it('sweeps expired sets and restarts a set whose first chunk expired', () => {
    const a = new ChunkAssembler(limits)
    a.add(chunk('old', 0, 2, new Uint8Array([1])), 0)
    a.add(chunk('new', 0, 2, new Uint8Array([1])), 20_000)
    expect(a.sweep(29_999)).toBe(0)
    expect(a.sweep(30_000)).toBe(1)
    expect(a.size).toBe(1)
    // 'new' expired by 50 000: its late second chunk starts a fresh set instead of completing
    expect(a.add(chunk('new', 1, 2, new Uint8Array([2])), 50_000)).toEqual({ status: 'pending' })
    expect(a.size).toBe(1)
    a.clear()
    expect(a.size).toBe(0)
  })

  it('completes a single-chunk set immediately', () => {
    const a = new ChunkAssembler(limits)
    expect(a.add(chunk('one', 0, 1, batchFrame), 0)).toEqual({ status: 'complete', frame: batchFrame })
  })
})
