import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../../adapters/postgres.js'
import { exportCommand, importCommand } from '../../src/backup/commands.js'
import { BackupFormatError } from '../../src/backup/format.js'
import { importDocuments } from '../../src/backup/import.js'
import type { DocumentStore } from '../../src/server/options.js'
import { MemoryStore } from '../../src/storage/memory-store.js'
import type { SqlDocumentStore } from '../../src/storage/sql-store.js'
import { normalize, register } from '../../src/testing/store-fixtures.js'
import { exportToString, sampleDocuments, streamOf } from '../helpers/backup-fixtures.js'
import { sharedPglite } from '../helpers/pglite-shared.js'
import { dropSchema, postgresAvailable, testSchemaName } from '../helpers/services.js'

const pg = await postgresAvailable()
if ('skip' in pg) console.warn(`skipping Postgres backup tests: ${pg.skip}`)
const url = 'url' in pg ? pg.url : ''

async function snapshots(store: DocumentStore, ids: readonly string[]) {
  return Promise.all(ids.map(async (id) => normalize(await store.load(id))))
}

describe.skipIf('skip' in pg)('backup: export → import', () => {
  const schemas: string[] = []
  const stores: SqlDocumentStore[] = []
  const pglite = sharedPglite('memory://')
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'synckit-backup-'))
  })
  afterAll(async () => {
    for (const store of stores) await store.close()
    for (const schema of schemas) await dropSchema(url, schema)
    await pglite.close()
    await rm(dir, { recursive: true, force: true })
  })
  const emptyPostgres = async (): Promise<SqlDocumentStore> => {
    const schema = testSchemaName()
    schemas.push(schema)
    const store = await createPostgresStore({ url, schema, max: 2 })
    stores.push(store)
    return store
  }
  const ids = sampleDocuments().map((d) => d.documentId)

  it('round-trips byte-exact from the embedded store into an empty Postgres schema', async () => {
    const { store: embedded, cleanup } = await pglite.store()
    try {
      await embedded.save(sampleDocuments())
      const exported = await exportToString(embedded, { maxRegistersPerLine: 40 })
      const target = await emptyPostgres()
      expect(await target.list()).toEqual([])
      const summary = await importDocuments(target, streamOf(exported, 777), { batchRegisters: 50 })
      expect(summary).toMatchObject({ documents: 4, registers: 9 + 250 + 1 })
      expect(summary.batches).toBeGreaterThan(3)
      // Values, tombstones, stamps, dots and clocks: equal as data…
      expect(await snapshots(target, ids)).toEqual(await snapshots(embedded, ids))
      expect(await snapshots(target, ids)).toEqual(sampleDocuments().map((d) => normalize(d)))
      // …and as bytes: the export of the restored store is the same file.
      expect(await exportToString(target, { maxRegistersPerLine: 40 })).toBe(exported)
      // The large document spans several lines, only its last one carries the clock.
      const lines = exported.trimEnd().split('\n')
      const bigLines = lines.filter((line) => line.includes('"document":"doc-c"'))
      expect(bigLines.length).toBe(Math.ceil(250 / 40))
      expect(bigLines.slice(0, -1).every((l) => l.includes('"more":true') && !l.includes('"clock"'))).toBe(
        true,
      )
      expect(lines[0]).toBe('{"format":"synckit-engine-export","version":1}')
      expect(lines.at(-1)).toBe('{"documents":4,"end":true,"registers":260}')
    } finally {
      await cleanup()
    }
  })

  it('exports the same bytes from the memory store, the embedded store and Postgres', async () => {
    const memory = new MemoryStore()
    await memory.save(sampleDocuments())
    const { store: embedded, cleanup } = await pglite.store()
    try {
      await embedded.save(sampleDocuments())
      const postgres = await emptyPostgres()
      await postgres.save(sampleDocuments())
      const fromMemory = await exportToString(memory)
      expect(await exportToString(embedded)).toBe(fromMemory)
      expect(await exportToString(postgres)).toBe(fromMemory)
    } finally {
      await cleanup()
    }
  })

  it('is idempotent: importing the same file twice, or an older one, changes nothing', async () => {
    const source = new MemoryStore()
    await source.save(sampleDocuments())
    const older = await exportToString(source)
    // Later writes: a newer value, a delete, a new field, a new document, a clock that moved.
    await source.save([
      {
        documentId: 'doc-a',
        registers: [
          register('title', 'newer', { ms: 100, seq: 20 }),
          register('nothing', null, { ms: 101, seq: 21, deleted: true }),
          register('added', 1, { ms: 102, seq: 22 }),
        ],
        clock: { 'node-a': 22 },
      },
      { documentId: 'doc-new', registers: [register('x', 1, { ms: 103 })], clock: { 'node-a': 103 } },
    ])
    const newer = await exportToString(source)
    expect(newer).not.toBe(older)

    const target = await emptyPostgres()
    await importDocuments(target, streamOf(newer))
    expect(await exportToString(target)).toBe(newer)
    await importDocuments(target, streamOf(newer))
    expect(await exportToString(target)).toBe(newer)
    await importDocuments(target, streamOf(older))
    expect(await exportToString(target)).toBe(newer)
    // The same holds for the memory store's LWW merge.
    const memory = new MemoryStore()
    await importDocuments(memory, streamOf(newer))
    await importDocuments(memory, streamOf(older))
    await importDocuments(memory, streamOf(newer))
    expect(await exportToString(memory)).toBe(newer)
  })

  it('export and import commands: a file written whole (via .partial), progress on the side', async () => {
    const source = new MemoryStore()
    await source.save(sampleDocuments())
    const out = join(dir, 'backup.jsonl')
    const progress: string[] = []
    const progressStream = { write: (text: string) => progress.push(text), isTTY: false }
    const exported = await exportCommand({ store: source, out, progress: progressStream })
    expect(exported.documents).toBe(4)
    await expect(stat(`${out}.partial`)).rejects.toThrow()
    expect(await readFile(out, 'utf8')).toBe(await exportToString(source))
    expect(progress.at(-1)).toMatch(/^export: 100% 4\/4 documents, 260 registers, [\d.]+ KiB, in 0:\d\d\n$/)

    const target = await emptyPostgres()
    progress.length = 0
    const imported = await importCommand({ store: target, file: out, progress: progressStream })
    expect(imported).toMatchObject({ documents: 4, registers: 260, bytes: (await stat(out)).size })
    expect(await exportToString(target)).toBe(await readFile(out, 'utf8'))
    expect(progress.at(-1)).toMatch(/^import: 100% 4 documents, 260 registers/)

    // A failed export leaves no file under the final name.
    const broken: DocumentStore = {
      load: () => Promise.reject(new Error('disk on fire')),
      save: () => Promise.resolve(),
      list: (o) => Promise.resolve(o?.after ? [] : ['x']),
    }
    const failed = join(dir, 'failed.jsonl')
    await expect(exportCommand({ store: broken, out: failed })).rejects.toThrow('disk on fire')
    await expect(stat(failed)).rejects.toThrow()
    await expect(stat(`${failed}.partial`)).rejects.toThrow()
  })

  it('a dry run validates without writing', async () => {
    const source = new MemoryStore()
    await source.save(sampleDocuments())
    const file = join(dir, 'dry.jsonl')
    await writeFile(file, await exportToString(source))
    const target = new MemoryStore()
    const summary = await importCommand({ store: target, file, dryRun: true })
    expect(summary).toMatchObject({ documents: 4, batches: 0 })
    expect(target.size).toBe(0)
  })
})

describe('backup: refuses malformed input with line numbers', () => {
  const header = '{"format":"synckit-engine-export","version":1}'
  const reg =
    '{"deleted":false,"dot":{"node":"n","seq":1},"field":"f","stamp":{"counter":0,"ms":1,"node":"n"},"value":1}'
  const doc = `{"clock":{"n":1},"document":"d","registers":[${reg}]}`
  const end = '{"documents":1,"end":true,"registers":1}'
  const file = (...lines: string[]) => `${lines.join('\n')}\n`

  it.each([
    [
      'an unknown version',
      file('{"format":"synckit-engine-export","version":2}', doc, end),
      1,
      /version 2 is not supported/,
    ],
    ['another format', file('{"format":"other","version":1}'), 1, /unknown format "other"/],
    ['no header', file(doc, end), 1, /first line must be the header/],
    ['not JSON', file(header, '{"document":', end), 2, /not JSON/],
    ['a bad stamp', file(header, doc.replace('"ms":1', '"ms":-1'), end), 2, /stamp\.ms must be an integer/],
    [
      'a bad node id',
      file(header, doc.replace('"node":"n","seq"', '"node":"bad node","seq"'), end),
      2,
      /dot\.node/,
    ],
    [
      'a tombstone with a value',
      file(header, doc.replace('"deleted":false', '"deleted":true'), end),
      2,
      /tombstone with a value/,
    ],
    [
      'an unknown key',
      file(header, doc.replace('"value":1', '"value":1,"extra":2'), end),
      2,
      /unknown key "extra"/,
    ],
    ['a missing clock', file(header, doc.replace('{"clock":{"n":1},', '{'), end), 2, /needs a clock/],
    ['a bad clock', file(header, doc.replace('{"n":1}', '{"n":1.5}'), end), 2, /clock\.n must be an integer/],
    [
      'an interleaved document',
      file(header, doc.replace('{"clock":{"n":1},', '{"more":true,'), doc.replace('"d"', '"e"'), end),
      3,
      /starts before "d" ends/,
    ],
    [
      'a wrong count',
      file(header, doc, '{"documents":2,"end":true,"registers":1}'),
      3,
      /end line counts 2 documents/,
    ],
    ['content after the end', file(header, doc, end, doc), 4, /after the end line/],
    ['an empty line', file(header, '', doc, end), 2, /not JSON/],
  ])('%s', async (_, input, line, message) => {
    const error = await importDocuments(new MemoryStore(), streamOf(input)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BackupFormatError)
    expect((error as BackupFormatError).line).toBe(line)
    expect((error as Error).message).toMatch(message)
    expect((error as Error).message).toMatch(new RegExp(`^line ${line}: `))
  })

  it('a truncated file, an empty one, invalid UTF-8, an endless line', async () => {
    const run = (input: string | Uint8Array, maxLineBytes?: number) =>
      importDocuments(new MemoryStore(), streamOf(input, 5), maxLineBytes ? { maxLineBytes } : {}).catch(
        (e: unknown) => e as Error,
      )
    expect(await run(file(header, doc))).toMatchObject({
      message: expect.stringMatching(/without its end line/),
    })
    expect(await run('')).toMatchObject({ message: expect.stringMatching(/no header/) })
    const bad = Buffer.concat([
      Buffer.from(`${header}\n{"document":"`),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}\n'),
    ])
    expect(await run(bad)).toMatchObject({ line: 2, message: 'line 2: not valid UTF-8' })
    expect(await run(file(header, `{"document":"${'x'.repeat(500)}"}`), 100)).toMatchObject({
      line: 2,
      message: expect.stringMatching(/longer than 100 bytes/),
    })
  })

  it('keeps what came before the first bad line (a re-run after the fix is safe)', async () => {
    const store = new MemoryStore()
    const input = file(header, doc, '{"document":"broken"', end)
    await expect(importDocuments(store, streamOf(input), { batchDocuments: 1 })).rejects.toThrow(/line 3/)
    expect(store.documentIds()).toEqual(['d'])
  })

  it('keeps the valid lines of a batch still open at the bad line too (default batch size)', async () => {
    const store = new MemoryStore()
    const other = doc.replace('"document":"d"', '"document":"e"')
    const input = file(header, doc, other, '{"document":"broken"', end)
    await expect(importDocuments(store, streamOf(input))).rejects.toThrow(/^line 4: not JSON/)
    expect(await store.list()).toEqual(['d', 'e'])
  })
})
