import { base64DecodedLength, decodeBase64 } from './base64.js'
import { ERRORS, protocolError } from './errors.js'
import type { ChunkAddResult, ChunkLimits, DeltaBatchChunkMessage, ErrorCode } from './types.js'
import { utf8Decoder } from './utf8.js'

interface ChunkSet {
  total: number
  parts: (Uint8Array | undefined)[]
  received: number
  bytes: number
  startedAt: number
}

const fail = (message: string, code: ErrorCode): ChunkAddResult => ({
  status: 'error',
  error: protocolError(message, code, 'delta_batch_chunk'),
})

/**
 * Reassembles `delta_batch_chunk` sets (docs/protocol.md §2.5) within fixed bounds, unlike the
 * reference: chunk count, bytes per set and concurrent sets are all capped, and sets expire
 * `timeoutMs` after their first chunk. Time is passed in; nothing here schedules.
 */
export class ChunkAssembler {
  private readonly sets = new Map<string, ChunkSet>()

  constructor(private readonly limits: ChunkLimits) {}

  /** Adds a chunk; the reassembled frame once the set is complete. */
  add(chunk: DeltaBatchChunkMessage, now: number): ChunkAddResult {
    const { chunkId, totalChunks, chunkIndex } = chunk
    if (!Number.isSafeInteger(totalChunks) || totalChunks < 1)
      return fail(ERRORS.invalidFormat, 'INVALID_MESSAGE')
    if (!Number.isSafeInteger(chunkIndex) || chunkIndex < 0 || chunkIndex >= totalChunks) {
      return fail(ERRORS.invalidFormat, 'INVALID_MESSAGE')
    }
    if (totalChunks > this.limits.maxChunksPerSet) return fail(ERRORS.chunkSetTooLarge, 'LIMIT_EXCEEDED')

    // Every bound is checked before the data is decoded: a chunk that cannot be kept costs no decoding.
    let set = this.sets.get(chunkId)
    if (set !== undefined && this.expired(set, now)) {
      this.sets.delete(chunkId)
      set = undefined
    }
    if (set === undefined) {
      if (this.sets.size >= this.limits.maxSets) this.sweep(now)
      if (this.sets.size >= this.limits.maxSets) return fail(ERRORS.tooManyChunkSets, 'LIMIT_EXCEEDED')
    } else if (set.total !== totalChunks) {
      return fail(ERRORS.chunkMismatch, 'INVALID_MESSAGE')
    } else if (set.parts[chunkIndex] !== undefined) {
      // A resent chunk is harmless: the first copy wins.
      return { status: 'pending' }
    }
    if ((set?.bytes ?? 0) + base64DecodedLength(chunk.data) > this.limits.maxSetBytes) {
      this.sets.delete(chunkId)
      return fail(ERRORS.chunkSetTooLarge, 'LIMIT_EXCEEDED')
    }
    const data = decodeBase64(chunk.data)
    if (data === undefined) return fail(ERRORS.invalidChunkData, 'INVALID_MESSAGE')

    if (set === undefined) {
      set = { total: totalChunks, parts: new Array(totalChunks), received: 0, bytes: 0, startedAt: now }
      this.sets.set(chunkId, set)
    }
    set.bytes += data.length
    set.parts[chunkIndex] = data
    set.received++
    if (set.received < set.total) return { status: 'pending' }

    this.sets.delete(chunkId)
    return complete(set)
  }

  /** Decoded bytes held by the sets being reassembled. */
  get bytes(): number {
    let bytes = 0
    for (const set of this.sets.values()) bytes += set.bytes
    return bytes
  }

  /** Drop sets whose first chunk is at least `timeoutMs` old; returns how many were dropped. */
  sweep(now: number): number {
    let dropped = 0
    for (const [id, set] of this.sets) {
      if (this.expired(set, now)) {
        this.sets.delete(id)
        dropped++
      }
    }
    return dropped
  }

  get size(): number {
    return this.sets.size
  }

  /** Drops every incomplete set. */
  clear(): void {
    this.sets.clear()
  }

  private expired(set: ChunkSet, now: number): boolean {
    return now - set.startedAt >= this.limits.timeoutMs
  }
}

function complete(set: ChunkSet): ChunkAddResult {
  const frame = new Uint8Array(set.bytes)
  let offset = 0
  for (const part of set.parts) {
    if (part === undefined) continue // unreachable: every slot is filled
    frame.set(part, offset)
    offset += part.length
  }
  if (frame[0] !== 0x7b) return { status: 'complete', frame }
  // A JSON frame is handed back as text, as if it had arrived in a text frame.
  try {
    return { status: 'complete', frame: utf8Decoder.decode(frame) }
  } catch {
    return fail(ERRORS.invalidFormat, 'INVALID_MESSAGE')
  }
}
