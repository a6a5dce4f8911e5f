import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createPgliteStore } from '../../src/storage/pglite.js'
import type { SqlDocumentStore } from '../../src/storage/sql-store.js'
import { register, sorted } from '../../src/testing/store-fixtures.js'
import { ackedBeforeSigkill, importFrom } from '../helpers/kill-after-ack.js'
import {
  bigDocumentRoundTrip,
  roundTripsAnyKeyAndValue,
  snapshot,
  storeRejection,
} from '../helpers/store-cases.js'

// Creating a PGlite database runs initdb in WebAssembly: tens of seconds on a loaded machine.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 })

describe('PGlite store (data directory)', () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'synckit-pglite-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('keeps data across close and reopen, and does not re-run migrations', async () => {
    const data = join(dir, 'data')
    const first = await createPgliteStore({ dataDir: data })
    const tombstone = register('gone', null, { ms: 9, deleted: true })
    await first.save([snapshot('kept', 50), { documentId: 'kept', registers: [tombstone], clock: {} }])
    const before = await first.load('kept')
    await first.close()
    expect((await storeRejection(first.load('kept'))).code).toBe('CONNECTION_ERROR')
    expect(await first.health()).toBe(false)

    const reopened = await createPgliteStore({ dataDir: data })
    try {
      expect(await reopened.migrate()).toEqual({ applied: [], version: 1 })
      const after = await reopened.load('kept')
      expect(after?.registers.length).toBe(51)
      expect(sorted(after?.registers ?? [])).toEqual(sorted(before?.registers ?? []))
      expect(after?.clock).toEqual({ 'node-a': 51 })
      expect(await reopened.health()).toBe(true)
    } finally {
      await reopened.close()
    }
  })

  it('every acked save survives SIGKILL of the process', async () => {
    const data = join(dir, 'crash')
    const acked = await ackedBeforeSigkill({
      scratchDir: dir,
      dataDir: data,
      imports: importFrom('createPgliteStore', 'src/storage/pglite.ts'),
      openStore: 'createPgliteStore({ dataDir })',
    })
    const reopened = await createPgliteStore({ dataDir: data })
    try {
      for (let i = 0; i <= acked; i++) expect((await reopened.load(`doc-${i}`))?.registers[0]?.value).toBe(i)
    } finally {
      await reopened.close()
    }
  })

  it('a data directory that cannot be created is a CONNECTION_ERROR', async () => {
    const file = join(dir, 'a-file')
    await writeFile(file, 'not a directory')
    expect((await storeRejection(createPgliteStore({ dataDir: join(file, 'data') }))).code).toBe(
      'CONNECTION_ERROR',
    )
  })
})

describe('PGlite store (memory://)', () => {
  let store: SqlDocumentStore
  beforeAll(async () => {
    store = await createPgliteStore({ dataDir: 'memory://' })
  })
  afterAll(() => store.close())

  it('group commit: N documents × M registers in one round trip and one transaction', async () => {
    const before = store.stats.roundTrips
    await store.save(Array.from({ length: 30 }, (_, d) => snapshot(`group-${d}`, 20)))
    expect(store.stats.roundTrips - before).toBe(1)
    expect(store.stats.registersSent).toBe(600)
    const load = await store.load('group-29')
    expect(load?.registers.length).toBe(20)
  })

  it('any field name and value round-trips exactly through the database (property)', async () => {
    await roundTripsAnyKeyAndValue(store, 60)
  })

  it('loads a 10,000-field document in one query', async () => {
    const before = store.stats.roundTrips
    const { saveMs, loadMs } = await bigDocumentRoundTrip(store)
    expect(store.stats.roundTrips - before).toBe(4)
    console.log(
      `[storage] PGlite 10,000-field document: save ${saveMs.toFixed(1)} ms, load ${loadMs.map((x) => x.toFixed(1)).join(' / ')} ms`,
    )
    expect(Math.min(...loadMs)).toBeLessThan(5000)
  })
})
