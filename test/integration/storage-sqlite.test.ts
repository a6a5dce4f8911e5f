import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { DocumentSnapshot } from '../../src/crdt/types.js'
import { DataDirectoryLockedError, StoreError } from '../../src/storage/errors.js'
import { FORMAT_FILE, SQLITE_FILE } from '../../src/storage/layout.js'
import { createPgliteStore } from '../../src/storage/pglite.js'
import { createSqliteStore } from '../../src/storage/sqlite.js'
import type { SqliteDocumentStore } from '../../src/storage/sqlite-store.js'
import { register, sorted } from '../../src/testing/store-fixtures.js'
import { ackedBeforeSigkill, importFrom } from '../helpers/kill-after-ack.js'
import { bigDocumentRoundTrip, roundTripsAnyKeyAndValue, snapshot } from '../helpers/store-cases.js'

// The migration cases open PGlite (initdb in WebAssembly: seconds, tens on a loaded machine).
vi.setConfig({ testTimeout: 180_000, hookTimeout: 60_000 })

/** The error `promise` rejects with (the lock error and StoreErrors alike). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (e: unknown) => (e instanceof Error ? e : new Error(String(e))),
  )
}

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'synckit-sqlite-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('SQLite store (data directory)', () => {
  it('keeps data across close and reopen; writes a versioned format marker', async () => {
    const data = join(dir, 'reopen')
    const first = await createSqliteStore({ dataDir: data })
    const tombstone = register('gone', null, { ms: 9, deleted: true })
    await first.save([snapshot('kept', 50), { documentId: 'kept', registers: [tombstone], clock: {} }])
    const before = await first.load('kept')
    await first.close()
    expect((await rejection(first.load('kept'))).message).toContain('closed')
    expect(await first.health()).toBe(false)
    expect(JSON.parse(await readFile(join(data, FORMAT_FILE), 'utf8'))).toEqual({
      format: 'synckit-data',
      version: 1,
      store: 'sqlite',
    })

    const reopened = await createSqliteStore({ dataDir: data })
    try {
      const after = await reopened.load('kept')
      expect(after?.registers.length).toBe(51)
      expect(sorted(after?.registers ?? [])).toEqual(sorted(before?.registers ?? []))
      expect(after?.clock).toEqual({ 'node-a': 51 })
      expect(await reopened.health()).toBe(true)
    } finally {
      await reopened.close()
    }
  })

  for (const synchronous of ['full', 'normal'] as const) {
    it(`every acked save survives SIGKILL of the process (synchronous: ${synchronous})`, async () => {
      const data = join(dir, `crash-${synchronous}`)
      const acked = await ackedBeforeSigkill({
        scratchDir: dir,
        dataDir: data,
        imports: importFrom('createSqliteStore', 'src/storage/sqlite.ts'),
        openStore: `createSqliteStore({ dataDir, synchronous: '${synchronous}' })`,
        killAfter: 200,
      })
      // The dead holder's lock went with its process: reopening needs no clean-up.
      const reopened = await createSqliteStore({ dataDir: data })
      try {
        for (let i = 0; i <= acked; i++)
          expect((await reopened.load(`doc-${i}`))?.registers[0]?.value).toBe(i)
      } finally {
        await reopened.close()
      }
    })
  }

  it('one store per data directory: a second open is refused, naming the directory and this pid', async () => {
    const data = join(dir, 'locked')
    const store = await createSqliteStore({ dataDir: data })
    const error = await rejection(createSqliteStore({ dataDir: data }))
    expect(error).toBeInstanceOf(DataDirectoryLockedError)
    expect(error).toBeInstanceOf(StoreError)
    expect(error.message).toContain(resolve(data))
    expect(error.message).toContain(`process ${process.pid}`)
    // PGlite on the same directory is refused the same way.
    expect(await rejection(createPgliteStore({ dataDir: data }))).toBeInstanceOf(DataDirectoryLockedError)
    await store.close()
    const again = await createSqliteStore({ dataDir: data })
    await again.close()
  })

  it('refuses a directory holding other files, and a format newer than this code', async () => {
    const foreign = join(dir, 'foreign')
    await mkdir(foreign)
    await writeFile(join(foreign, 'notes.txt'), 'mine')
    const refused = await rejection(createSqliteStore({ dataDir: foreign }))
    expect(refused.message).toMatch(/not empty and holds no synckit store .*notes\.txt/)
    expect(await readdir(foreign)).not.toContain(SQLITE_FILE)

    const newer = join(dir, 'newer')
    await mkdir(newer)
    await writeFile(
      join(newer, FORMAT_FILE),
      JSON.stringify({ format: 'synckit-data', version: 2, store: 'sqlite' }),
    )
    expect((await rejection(createSqliteStore({ dataDir: newer }))).message).toContain(
      'data directory format 2, newer than this synckit-engine understands (1)',
    )
    // Neither refusal keeps the directory locked.
    await writeFile(
      join(newer, FORMAT_FILE),
      JSON.stringify({ format: 'synckit-data', version: 1, store: 'sqlite' }),
    )
    await (await createSqliteStore({ dataDir: newer })).close()
  })

  it('a data directory that cannot be created is a CONNECTION_ERROR', async () => {
    const file = join(dir, 'a-file')
    await writeFile(file, 'not a directory')
    const error = await rejection(createSqliteStore({ dataDir: join(file, 'data') }))
    expect(error).toBeInstanceOf(StoreError)
    expect((error as StoreError).code).toBe('CONNECTION_ERROR')
  })
})

describe('SQLite store: upgrading from a PGlite data directory', () => {
  /** A directory as versions before the format marker wrote it: PGlite files, no marker. */
  async function legacyPgliteDir(
    name: string,
    documents: DocumentSnapshot[],
    schema?: string,
  ): Promise<string> {
    const data = join(dir, name)
    const pglite = await createPgliteStore({ dataDir: data, ...(schema === undefined ? {} : { schema }) })
    await pglite.save(documents)
    await pglite.close()
    await rm(join(data, FORMAT_FILE))
    return data
  }

  it('is migrated automatically: same documents, PGlite files kept in pglite-backup/', async () => {
    const awkward = register('\u0000 \ud800 "', '\u0000 \udc00', { ms: 3 })
    const documents = [
      snapshot('a', 30),
      snapshot('b', 1, 7),
      { documentId: 'clock-only', registers: [], clock: { 'node-b': 4 } },
      {
        documentId: '\u0000odd id',
        registers: [awkward, register('t', null, { ms: 5, deleted: true })],
        clock: {},
      },
      ...Array.from({ length: 450 }, (_, i) => snapshot(`many-${i}`, 2)),
    ]
    const data = await legacyPgliteDir('legacy', documents)
    const messages: string[] = []
    const store = await createSqliteStore({ dataDir: data, log: (m) => messages.push(m) })
    let loaded: (DocumentSnapshot | undefined)[]
    try {
      loaded = await Promise.all(documents.map((d) => store.load(d.documentId)))
      expect(await store.list({ limit: 10_000 })).toHaveLength(documents.length)
    } finally {
      await store.close()
    }
    for (const [i, document] of documents.entries()) {
      expect(sorted(loaded[i]?.registers ?? []), document.documentId).toEqual(sorted(document.registers))
      expect(loaded[i]?.clock).toEqual(document.clock)
    }
    expect(messages.join('\n')).toMatch(/migrated 454 documents \(\d+ registers\).*pglite-backup/)
    expect(JSON.parse(await readFile(join(data, FORMAT_FILE), 'utf8'))).toMatchObject({
      store: 'sqlite',
      migratedFrom: 'pglite',
    })
    const entries = await readdir(data)
    expect(entries).not.toContain('PG_VERSION')
    expect(entries).not.toContain(`${SQLITE_FILE}.partial`)
    // The backup is still a PGlite data directory with the data.
    const backup = await createPgliteStore({ dataDir: join(data, 'pglite-backup') })
    try {
      expect((await backup.load('b'))?.registers).toEqual(documents[1]?.registers)
    } finally {
      await backup.close()
    }
    // Reopening does not migrate again.
    const reopened = await createSqliteStore({ dataDir: data, log: (m) => messages.push(`again: ${m}`) })
    expect((await reopened.load('a'))?.registers.length).toBe(30)
    await reopened.close()
    expect(messages.some((m) => m.startsWith('again:'))).toBe(false)
  })

  it('an interrupted migration (a partial copy, no marker) starts over from the PGlite files', async () => {
    const data = await legacyPgliteDir('interrupted', [snapshot('x', 3)], 'custom_schema')
    await writeFile(join(data, `${SQLITE_FILE}.partial`), 'garbage from a crash')
    await writeFile(join(data, SQLITE_FILE), 'garbage from a crash')
    const store = await createSqliteStore({ dataDir: data, pgliteSchema: 'custom_schema' })
    try {
      expect(sorted((await store.load('x'))?.registers ?? [])).toEqual(sorted(snapshot('x', 3).registers))
    } finally {
      await store.close()
    }
  })

  it('migrateFromPglite: false refuses it, saying what to do; PGlite refuses a SQLite directory', async () => {
    const data = await legacyPgliteDir('refused', [snapshot('y', 1)])
    const error = await rejection(createSqliteStore({ dataDir: data, migrateFromPglite: false }))
    expect(error.message).toContain('holds a PGlite store')
    expect(error.message).toContain('--storage pglite')
    const sqliteDir = join(dir, 'sqlite-only')
    await (await createSqliteStore({ dataDir: sqliteDir })).close()
    expect((await rejection(createPgliteStore({ dataDir: sqliteDir }))).message).toContain(
      'holds a sqlite store',
    )
  })
})

describe('SQLite store (memory://)', () => {
  let store: SqliteDocumentStore
  beforeAll(async () => {
    store = await createSqliteStore({ dataDir: 'memory://' })
  })
  afterAll(() => store.close())

  it('group commit: N documents × M registers in one transaction', async () => {
    const before = { ...store.stats }
    await store.save(Array.from({ length: 30 }, (_, d) => snapshot(`group-${d}`, 20)))
    expect(store.stats.transactions - before.transactions).toBe(1)
    expect(store.stats.registersWritten - before.registersWritten).toBe(600)
    expect((await store.load('group-29'))?.registers.length).toBe(20)
  })

  it('a batch that fails validation writes nothing', async () => {
    const bad = { ...register('z', 1, { ms: 1 }), stamp: { ms: -1, counter: 0, node: 'n' } }
    const error = await rejection(
      store.save([snapshot('partial', 5), { documentId: 'partial', registers: [bad], clock: {} }]),
    )
    expect((error as StoreError).code).toBe('QUERY_ERROR')
    expect(await store.load('partial')).toBeUndefined()
  })

  it('any field name, document id and value round-trips exactly through the database (property)', async () => {
    await roundTripsAnyKeyAndValue(store, 100)
  })

  it('loads a 10,000-field document', async () => {
    await bigDocumentRoundTrip(store)
  })
})
