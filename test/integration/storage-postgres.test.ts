import { createServer } from 'node:net'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../../adapters/postgres.js'
import type { DocumentSnapshot, Register } from '../../src/crdt/types.js'
import { StoreError } from '../../src/storage/errors.js'
import { MIGRATION_LOCK_CLASS, MIGRATIONS } from '../../src/storage/migrations.js'
import type { SqlDocumentStore } from '../../src/storage/sql-store.js'
import { lwwFold, prng, register, shuffle, sorted } from '../../src/testing/store-fixtures.js'
import { dropSchema, postgresAvailable, testSchemaName } from '../helpers/services.js'

const pg = await postgresAvailable()
if ('skip' in pg) console.warn(`skipping Postgres storage tests: ${pg.skip}`)
const url = 'url' in pg ? pg.url : ''

const grid = (docs: number, fields: number, prefix: string, ms = 1): DocumentSnapshot[] =>
  Array.from({ length: docs }, (_, d) => ({
    documentId: `${prefix}-${d}`,
    registers: Array.from({ length: fields }, (_, f) => register(`f${f}`, { d, f }, { ms: ms + f })),
    clock: { 'node-a': ms + fields },
  }))

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

async function rejection(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(error instanceof StoreError)) throw new Error(`expected a StoreError, got ${String(error)}`)
  return error
}

describe.skipIf('skip' in pg)('Postgres store', () => {
  const schemas: string[] = []
  const fresh = (): string => {
    const schema = testSchemaName()
    schemas.push(schema)
    return schema
  }
  const admin = postgres(url, { max: 2, onnotice: () => {} })
  afterAll(async () => {
    await admin.end({ timeout: 5 })
    for (const schema of schemas) await dropSchema(url, schema)
  })

  describe('migrations', () => {
    it('are idempotent: a second run applies nothing', async () => {
      const schema = fresh()
      const store = await createPostgresStore({ url, schema, max: 2 })
      try {
        expect(await store.migrate()).toEqual({ applied: [], version: MIGRATIONS.length })
        const rows = await admin.unsafe(
          `select version from "${schema}".synckit_schema_version order by version`,
        )
        expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version))
      } finally {
        await store.close()
      }
    })

    it('give up waiting for a lock after migrationLockTimeoutMs, with a StoreError naming it', async () => {
      const schema = fresh()
      // Another node in the middle of migrating this schema: it holds the migration lock.
      const holder = postgres(url, { max: 1, onnotice: () => {} })
      try {
        await holder.begin(async (tx) => {
          await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK_CLASS}::int, hashtext(${schema}::text))`
          const started = Date.now()
          const error = await rejection(
            createPostgresStore({ url, schema, max: 2, migrationLockTimeoutMs: 300 }),
          )
          expect(Date.now() - started).toBeLessThan(5_000)
          expect(error.sqlState).toBe('55P03')
          expect(error.message).toMatch(/^migrate: waited more than 300 ms for a lock/)
        })
        // Lock released: the same start succeeds.
        const store = await createPostgresStore({ url, schema, max: 1, migrationLockTimeoutMs: 300 })
        try {
          const rows = await admin.unsafe(`select count(*)::int as n from "${schema}".synckit_schema_version`)
          expect(rows[0]?.n).toBe(MIGRATIONS.length)
          await store.save(grid(1, 1, 'after-lock'))
        } finally {
          await store.close()
        }
      } finally {
        await holder.end({ timeout: 5 })
      }
    })

    it('are safe when three nodes start at once on a fresh schema', async () => {
      const schema = fresh()
      const stores = await Promise.all(
        [1, 2, 3].map(() => createPostgresStore({ url, schema, max: 2, migrate: false })),
      )
      try {
        const results = await Promise.all(stores.map((s) => s.migrate()))
        expect(results.filter((r) => r.applied.length > 0)).toHaveLength(1)
        const rows = await admin.unsafe(
          `select version, count(*)::int as n from "${schema}".synckit_schema_version group by version`,
        )
        expect(rows.map((r) => [r.version, r.n])).toEqual(MIGRATIONS.map((m) => [m.version, 1]))
      } finally {
        await Promise.all(stores.map((s) => s.close()))
      }
    })
  })

  describe('with a migrated schema', () => {
    let schema = ''
    let store: SqlDocumentStore
    beforeAll(async () => {
      schema = fresh()
      store = await createPostgresStore({ url, schema, max: 4 })
    })
    afterAll(() => store.close())

    it('group commit: N documents × M registers in one round trip and one transaction', async () => {
      const before = store.stats.roundTrips
      await store.save(grid(50, 20, 'group'))
      expect(store.stats.roundTrips - before).toBe(1)
      // Every row written by one transaction carries the same xmin.
      const [row] = await admin.unsafe(`
        select (select count(*)::int from "${schema}".synckit_registers where document_id like 'group-%') as registers,
               (select count(*)::int from "${schema}".synckit_documents where document_id like 'group-%') as documents,
               (select count(distinct xmin::text)::int from (
                  select xmin from "${schema}".synckit_registers where document_id like 'group-%'
                  union all select xmin from "${schema}".synckit_documents where document_id like 'group-%') x) as transactions`)
      expect(row).toEqual({ registers: 1000, documents: 50, transactions: 1 })
    })

    it('measures group commit against one register per round trip', async () => {
      const docs = 100
      const fields = 20
      let t = performance.now()
      await store.save(grid(docs, fields, 'bulk'))
      const grouped = performance.now() - t
      const singles = grid(docs, fields, 'single').flatMap((d) =>
        d.registers.map((r) => ({ documentId: d.documentId, registers: [r], clock: d.clock })),
      )
      const before = store.stats.roundTrips
      t = performance.now()
      for (const s of singles) await store.save([s])
      const perRow = performance.now() - t
      expect(store.stats.roundTrips - before).toBe(docs * fields)
      const n = docs * fields
      console.log(
        `[storage] Postgres ${n} registers: group commit ${grouped.toFixed(1)} ms (${Math.round((n / grouped) * 1000)}/s), ` +
          `one per round trip ${perRow.toFixed(0)} ms (${Math.round((n / perRow) * 1000)}/s), ×${(perRow / grouped).toFixed(0)}`,
      )
    })

    it('loads a 10,000-field document in one query', async () => {
      const registers = Array.from({ length: 10_000 }, (_, i) =>
        register(`field-${i}`, i % 5 === 0 ? { nested: [i, null, ''] } : i % 3 === 0 ? null : `value-${i}`, {
          ms: i + 1,
        }),
      )
      let t = performance.now()
      await store.save([{ documentId: 'big', registers, clock: { 'node-a': 10_000 } }])
      const saveMs = performance.now() - t
      const before = store.stats.roundTrips
      const timings: number[] = []
      let loaded: DocumentSnapshot | undefined
      for (let i = 0; i < 5; i++) {
        t = performance.now()
        loaded = await store.load('big')
        timings.push(performance.now() - t)
      }
      expect(store.stats.roundTrips - before).toBe(5)
      expect(loaded?.registers.length).toBe(10_000)
      expect(sorted(loaded?.registers ?? [])).toEqual(sorted(registers))
      console.log(
        `[storage] Postgres 10,000-field document: save ${saveMs.toFixed(1)} ms, load ${timings.map((x) => x.toFixed(1)).join(' / ')} ms`,
      )
      expect(Math.min(...timings)).toBeLessThan(2000)
    })

    it('three nodes (separate pools) writing concurrently converge in the database', async () => {
      const nodes = await Promise.all(
        [1, 2, 3].map(() => createPostgresStore({ url, schema, max: 3, migrate: false })),
      )
      try {
        const random = prng(7)
        const all = new Map<string, Register[]>()
        const saves: Array<() => Promise<void>> = []
        nodes.forEach((node, n) => {
          for (let batch = 0; batch < 30; batch++) {
            const documents: DocumentSnapshot[] = ['c1', 'c2', 'c3'].map((documentId) => {
              const registers = Array.from({ length: 15 }, (_, i) => {
                const deleted = random() < 0.2
                return register(`f${Math.floor(random() * 25)}`, deleted ? null : `${n}:${batch}:${i}`, {
                  ms: Math.floor(random() * 20),
                  counter: batch * 100 + i,
                  node: `node-${n}`,
                  deleted,
                })
              })
              all.set(documentId, [...(all.get(documentId) ?? []), ...registers])
              return { documentId, registers, clock: { [`node-${n}`]: batch } }
            })
            saves.push(() => node.save(shuffle(documents, random)))
          }
        })
        await Promise.all(shuffle(saves, random).map((save) => save()))
        for (const [documentId, registers] of all) {
          const loaded = await store.load(documentId)
          expect(sorted(loaded?.registers ?? [])).toEqual(lwwFold(registers))
          expect(loaded?.clock).toEqual({ 'node-0': 29, 'node-1': 29, 'node-2': 29 })
        }
      } finally {
        await Promise.all(nodes.map((node) => node.close()))
      }
    })

    it('rejects invalid input with QUERY_ERROR and writes none of the batch', async () => {
      const bad = register('f', 1, { ms: 1, node: 'bad node ü' })
      const error = await rejection(
        store.save([
          { documentId: 'atomic-1', registers: [register('f', 1, { ms: 1 })], clock: {} },
          { documentId: 'atomic-2', registers: [bad], clock: {} },
        ]),
      )
      expect(error.code).toBe('QUERY_ERROR')
      expect(await store.load('atomic-1')).toBeUndefined()
    })

    it('a failing statement rejects with QUERY_ERROR and the SQLSTATE, never resolves empty', async () => {
      const other = await createPostgresStore({ url, schema: fresh(), max: 1 })
      try {
        await other.save(grid(1, 1, 'gone'))
        await admin.unsafe(`drop table "${schemas.at(-1)}".synckit_registers`)
        const error = await rejection(other.load('gone-0'))
        expect([error.code, error.sqlState]).toEqual(['QUERY_ERROR', '42P01'])
        expect(await other.health()).toBe(true)
      } finally {
        await other.close()
      }
    })
  })

  describe('failures', () => {
    it('an unreachable server: load/save/list reject with CONNECTION_ERROR, health is false', async () => {
      const port = await closedPort()
      const down = `postgres://postgres@127.0.0.1:${port}/test`
      expect((await rejection(createPostgresStore({ url: down }))).code).toBe('CONNECTION_ERROR')
      const store = await createPostgresStore({ url: down, migrate: false, healthTimeoutMs: 1000 })
      try {
        expect((await rejection(store.load('x'))).code).toBe('CONNECTION_ERROR')
        expect((await rejection(store.save(grid(1, 2, 'x')))).code).toBe('CONNECTION_ERROR')
        expect((await rejection(store.list())).code).toBe('CONNECTION_ERROR')
        expect(await store.health()).toBe(false)
      } finally {
        await store.close()
      }
    })

    it('a missing database is a CONNECTION_ERROR', async () => {
      const missing = new URL(url)
      missing.pathname = '/synckit_no_such_database'
      const error = await rejection(createPostgresStore({ url: missing.toString() }))
      expect([error.code, error.sqlState]).toEqual(['CONNECTION_ERROR', '3D000'])
    })

    it('a closed store rejects with CONNECTION_ERROR', async () => {
      const store = await createPostgresStore({ url, schema: fresh(), max: 1 })
      await store.close()
      expect((await rejection(store.load('x'))).code).toBe('CONNECTION_ERROR')
      expect((await rejection(store.save(grid(1, 1, 'x')))).code).toBe('CONNECTION_ERROR')
      expect(await store.health()).toBe(false)
    })
  })
})
