import { BackupFormatError } from './format.js'

export interface Line {
  /** 1-based. */
  number: number
  text: string
  /** Bytes consumed so far, this line and its newline included (for progress). */
  bytesRead: number
}

const NEWLINE = 0x0a

/**
 * Splits a byte stream into UTF-8 lines, holding at most one line (bounded by `maxLineBytes`) in
 * memory. `\n` never occurs inside a multi-byte UTF-8 sequence, so splitting the raw bytes first is
 * exact. A final line without `\n` is still yielded; an empty final segment is not.
 */
export async function* readLines(
  input: AsyncIterable<Uint8Array | string>,
  maxLineBytes: number,
): AsyncGenerator<Line> {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  const encoder = new TextEncoder()
  let parts: Uint8Array[] = []
  let partBytes = 0
  let number = 0
  let bytesRead = 0

  const finish = (tail: Uint8Array, newline: boolean): Line => {
    number++
    const bytes = concat(parts, partBytes, tail)
    parts = []
    partBytes = 0
    bytesRead += bytes.length + (newline ? 1 : 0)
    let text: string
    try {
      text = decoder.decode(bytes)
    } catch {
      throw new BackupFormatError(number, 'not valid UTF-8')
    }
    return { number, text: text.endsWith('\r') ? text.slice(0, -1) : text, bytesRead }
  }

  for await (const chunk of input) {
    let bytes = typeof chunk === 'string' ? encoder.encode(chunk) : chunk
    for (;;) {
      const at = bytes.indexOf(NEWLINE)
      if (at < 0) break
      if (partBytes + at > maxLineBytes) throw tooLong(number + 1, maxLineBytes)
      yield finish(bytes.subarray(0, at), true)
      bytes = bytes.subarray(at + 1)
    }
    if (bytes.length > 0) {
      if (partBytes + bytes.length > maxLineBytes) throw tooLong(number + 1, maxLineBytes)
      // Copied: the stream may reuse its buffer for the next chunk.
      parts.push(bytes.slice())
      partBytes += bytes.length
    }
  }
  if (partBytes > 0) yield finish(new Uint8Array(0), false)
}

function tooLong(line: number, max: number): BackupFormatError {
  return new BackupFormatError(line, `longer than ${max} bytes (maxLineBytes)`)
}

function concat(parts: Uint8Array[], partBytes: number, tail: Uint8Array): Uint8Array {
  if (parts.length === 0) return tail
  const out = new Uint8Array(partBytes + tail.length)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  out.set(tail, offset)
  return out
}
