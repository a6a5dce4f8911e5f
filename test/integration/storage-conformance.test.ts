import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { createPostgresStore } from '../../adapters/postgres.js'
import { MemoryStore } from '../../src/storage/memory-store.js'
import { createSqliteStore } from '../../src/storage/sqlite.js'
import { defineDocumentStoreConformance } from '../../src/testing/store-conformance.js'
import { sharedPglite } from '../helpers/pglite-shared.js'
import { dropSchema, postgresAvailable, testSchemaName } from '../helpers/services.js'

// The first PGlite case pays for initdb: tens of seconds on a loaded machine.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 60_000 })

const t = { describe, it, expect }

defineDocumentStoreConformance(t, 'MemoryStore', async () => ({
  store: new MemoryStore(),
  cleanup: async () => {},
}))

defineDocumentStoreConformance(t, 'SQLite (memory://)', async () => {
  const store = await createSqliteStore({ dataDir: 'memory://' })
  return { store, cleanup: () => store.close() }
})

// A data directory per case: opening one takes milliseconds (no initdb), lock and marker included.
const sqliteRoot = await mkdtemp(join(tmpdir(), 'synckit-sqlite-'))
afterAll(() => rm(sqliteRoot, { recursive: true, force: true }))
let sqliteCase = 0
defineDocumentStoreConformance(t, 'SQLite (data dir)', async () => {
  const dataDir = join(sqliteRoot, `case-${++sqliteCase}`)
  const store = await createSqliteStore({ dataDir })
  return { store, cleanup: () => store.close() }
})

const memory = sharedPglite('memory://')
afterAll(() => memory.close())
defineDocumentStoreConformance(t, 'PGlite (memory://)', () => memory.store())

const dir = await mkdtemp(join(tmpdir(), 'synckit-pglite-'))
const onDisk = sharedPglite(dir)
afterAll(async () => {
  await onDisk.close()
  await rm(dir, { recursive: true, force: true })
})
defineDocumentStoreConformance(t, 'PGlite (data dir)', () => onDisk.store())

const pg = await postgresAvailable()
// Outside CI only: `postgresAvailable` throws in CI when Postgres is missing.
if ('skip' in pg) {
  console.warn(`skipping Postgres conformance: ${pg.skip}`)
} else {
  defineDocumentStoreConformance(t, 'Postgres', async () => {
    const schema = testSchemaName()
    const store = await createPostgresStore({ url: pg.url, schema, max: 4 })
    return {
      store,
      cleanup: async () => {
        await store.close()
        await dropSchema(pg.url, schema)
      },
    }
  })
}
