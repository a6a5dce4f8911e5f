import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalJson } from '../../src/backup/canonical-json.js'
import { BackupFormatError } from '../../src/backup/format.js'
import { importDocuments } from '../../src/backup/import.js'
import { readLines } from '../../src/backup/lines.js'
import { createProgressReporter } from '../../src/backup/progress.js'
import { MemoryStore } from '../../src/storage/memory-store.js'
import { exportToString, sampleDocuments, streamOf } from '../helpers/backup-fixtures.js'

async function collect(input: AsyncIterable<Uint8Array | string>, max = 1 << 20) {
  const out: { number: number; text: string; bytesRead: number }[] = []
  for await (const line of readLines(input, max)) out.push(line)
  return out
}

describe('line reader', () => {
  it('gives the same lines whatever the chunk boundaries (UTF-8 split across chunks included)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => s.replaceAll('\n', '')),
          { maxLength: 20 },
        ),
        fc.integer({ min: 1, max: 17 }),
        fc.boolean(),
        async (lines, chunk, trailingNewline) => {
          const text = lines.join('\n') + (trailingNewline && lines.length > 0 ? '\n' : '')
          const read = await collect(streamOf(text, chunk))
          const expected =
            text === '' ? [] : text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n')
          expect(read.map((l) => l.text)).toEqual(expected)
          expect(read.map((l) => l.number)).toEqual(expected.map((_, i) => i + 1))
          if (read.length > 0) expect(read.at(-1)?.bytesRead).toBe(Buffer.byteLength(text))
        },
      ),
    )
  })
})

describe('canonical JSON', () => {
  it('is JSON.stringify up to key order, and independent of insertion order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value)
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)))
        expect(canonicalJson(JSON.parse(text))).toBe(text)
      }),
    )
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 1, e: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"e":2,"f":1}]},"b":1}',
    )
    expect(canonicalJson(JSON.parse('{"__proto__":{"x":1}}'))).toBe('{"__proto__":{"x":1}}')
  })
})

describe('import never crashes on a damaged file', () => {
  it('any truncation or byte flip of a valid export imports or fails with a BackupFormatError', async () => {
    const source = new MemoryStore()
    await source.save(sampleDocuments())
    const valid = Buffer.from(await exportToString(source, { maxRegistersPerLine: 30 }))
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: valid.length }),
        fc.array(fc.record({ at: fc.nat(valid.length - 1), byte: fc.integer({ min: 0, max: 255 }) }), {
          maxLength: 3,
        }),
        async (cut, flips) => {
          const damaged = Buffer.from(valid.subarray(0, cut))
          for (const { at, byte } of flips) if (at < damaged.length) damaged[at] = byte
          const outcome = await importDocuments(new MemoryStore(), streamOf(damaged, 4096)).then(
            () => 'ok',
            (error: unknown) => error,
          )
          if (outcome !== 'ok') expect(outcome).toBeInstanceOf(BackupFormatError)
        },
      ),
      { numRuns: 200 },
    )
  })
})

describe('progress reporter', () => {
  const stream = (isTTY: boolean) => {
    const writes: string[] = []
    return { writes, stream: { write: (text: string) => writes.push(text), isTTY, columns: 200 } }
  }

  it('draws a bar in place on a terminal, with percentage and ETA', () => {
    let now = 0
    const { writes, stream: out } = stream(true)
    const reporter = createProgressReporter(out, { label: 'import', totalBytes: 1000, now: () => now })
    now = 10_000
    reporter.update({ documents: 5, registers: 50, bytes: 250 })
    now = 10_050 // within the redraw interval: nothing
    reporter.update({ documents: 6, registers: 60, bytes: 300 })
    now = 20_000
    reporter.done({ documents: 20, registers: 200, bytes: 1000 })
    expect(writes).toEqual([
      '\r\x1b[2Kimport [#####---------------] 25% 5 documents, 50 registers, 250 B, ETA 0:30',
      '\r\x1b[2Kimport [####################] 100% 20 documents, 200 registers, 1000 B, in 0:20\n',
    ])
  })

  it('draws the whole bar on a terminal that reports no width (columns 0: a pty without a size)', () => {
    const writes: string[] = []
    const out = { write: (text: string) => writes.push(text), isTTY: true, columns: 0 }
    const reporter = createProgressReporter(out, { label: 'export', totalDocuments: 4, now: () => 0 })
    reporter.done({ documents: 4, registers: 40, bytes: 100 })
    expect(writes).toEqual([
      '\r\x1b[2Kexport [####################] 100% 4/4 documents, 40 registers, 100 B, in 0:00\n',
    ])
  })

  it('prints plain lines, a few seconds apart, when not a terminal', () => {
    let now = 0
    const { writes, stream: out } = stream(false)
    const reporter = createProgressReporter(out, { label: 'export', totalDocuments: 4, now: () => now })
    reporter.update({ documents: 1, registers: 10, bytes: 2048 })
    now = 1000
    reporter.update({ documents: 2, registers: 20, bytes: 4096 })
    now = 6000
    reporter.update({ documents: 3, registers: 30, bytes: 6144 })
    reporter.done({ documents: 4, registers: 40, bytes: 8192 })
    expect(writes).toEqual([
      'export: 25% 1/4 documents, 10 registers, 2.0 KiB\n',
      'export: 75% 3/4 documents, 30 registers, 6.0 KiB, ETA 0:02\n',
      'export: 100% 4/4 documents, 40 registers, 8.0 KiB, in 0:06\n',
    ])
  })
})
