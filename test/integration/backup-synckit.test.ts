import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../../adapters/postgres.js'
import { importFromSyncKitCommand } from '../../src/backup/commands.js'
import { importFromSyncKit, SYNCKIT_IMPORT_NODE } from '../../src/backup/synckit.js'
import type { Register } from '../../src/crdt/types.js'
import type { SqlDocumentStore } from '../../src/storage/sql-store.js'
import { normalize } from '../../src/testing/store-fixtures.js'
import { exportToString, SYNCKIT_TABLES } from '../helpers/backup-fixtures.js'
import { dropSchema, postgresAvailable, testSchemaName } from '../helpers/services.js'

const pg = await postgresAvailable()
if ('skip' in pg) console.warn(`skipping SyncKit import tests: ${pg.skip}`)
const url = 'url' in pg ? pg.url : ''

const BULK = 1100 // more than one page of ids (500)
const UPDATED = '2024-05-01T10:00:00.123Z'
const at = (iso: string) => Date.parse(iso)

const values = {
  title: 'Hello',
  count: 7,
  ratio: 0.25,
  flag: false,
  empty: '',
  zero: 0,
  nothing: null,
  nested: { b: { c: [1, { d: null }] }, a: 'x' },
  list: [1, 'two', null, { deep: [[]] }],
  unicode: 'ünïcödé 👋',
  marker: { __deleted: true },
}

describe.skipIf('skip' in pg)('import from a SyncKit database', () => {
  const sourceSchema = testSchemaName()
  const schemas = [sourceSchema]
  const stores: SqlDocumentStore[] = []
  const admin = postgres(url, { max: 1, onnotice: () => {} })

  beforeAll(async () => {
    await admin.unsafe(`create schema "${sourceSchema}"`)
    await admin.begin(async (tx) => {
      await tx.unsafe(`set local search_path to "${sourceSchema}"`)
      for (const ddl of SYNCKIT_TABLES) await tx.unsafe(ddl)
      const insertDoc = (id: string, state: unknown, updated = UPDATED) =>
        tx.unsafe('insert into documents (id, state, updated_at) values ($1, $2::text::jsonb, $3)', [
          id,
          JSON.stringify(state),
          updated,
        ])
      await insertDoc('doc-values', { id: 'doc-values', fields: values })
      await insertDoc('doc-text', { type: 'text', content: '', crdt: '{"ops":[]}', clock: 3 })
      await insertDoc('doc-empty', {})
      const delta = (field: string, op: string, time: string, clock: number) =>
        tx.unsafe(
          `insert into deltas (document_id, client_id, operation_type, field_path, value, clock_value, timestamp)
           values ('doc-values', 'conn-1', $1, $2, null, $3, $4)`,
          [op, field, clock, time],
        )
      await delta('title', 'set', '2024-05-01T08:00:00.000Z', 1)
      await delta('title', 'set', '2024-05-01T09:00:00.456Z', 2)
      await delta('count', 'set', '2024-05-01T09:10:00.000Z', 3)
      await delta('count', 'delete', '2024-05-01T09:20:00.000Z', 4) // lost a tie: the field stayed
      await delta('removed', 'set', '2024-05-01T09:25:00.000Z', 5)
      await delta('removed', 'delete', '2024-05-01T09:30:00.789Z', 6)
      for (const [client, clock] of [
        ['conn-1', 12],
        ['conn-2', 5],
        ['not a node id', 3],
      ] as const) {
        await tx.unsafe(
          'insert into vector_clocks (document_id, client_id, clock_value) values ($1, $2, $3)',
          ['doc-values', client, clock],
        )
      }
      await tx.unsafe(
        `insert into documents (id, state, updated_at)
         select 'bulk-' || lpad(i::text, 4, '0'),
                jsonb_build_object('id', 'bulk-' || lpad(i::text, 4, '0'), 'fields', jsonb_build_object('n', i, 'label', 'item ' || i)),
                $1::timestamptz
         from generate_series(0, ${BULK - 1}) as i`,
        [UPDATED],
      )
    })
  })
  afterAll(async () => {
    for (const store of stores) await store.close()
    await admin.end({ timeout: 5 })
    for (const schema of schemas) await dropSchema(url, schema)
  })
  const emptyStore = async (): Promise<SqlDocumentStore> => {
    const schema = testSchemaName()
    schemas.push(schema)
    const store = await createPostgresStore({ url, schema, max: 2 })
    stores.push(store)
    return store
  }

  const expectedRegisters = (): Register[] => {
    const fieldMs: Record<string, number> = {
      title: at('2024-05-01T09:00:00.456Z'),
      count: at('2024-05-01T09:20:00.000Z'),
      removed: at('2024-05-01T09:30:00.789Z'),
    }
    const entries = [
      ...Object.entries(values).map(([field, value]) => ({
        field,
        value: field === 'marker' ? null : value,
        deleted: field === 'marker',
      })),
      { field: 'removed', value: null, deleted: true },
    ].sort((a, b) => (a.field < b.field ? -1 : 1))
    return entries.map((entry, i) => ({
      ...entry,
      stamp: { ms: fieldMs[entry.field] ?? at(UPDATED), counter: 0, node: SYNCKIT_IMPORT_NODE },
      dot: { node: SYNCKIT_IMPORT_NODE, seq: i + 1 },
    }))
  }

  it('keeps every field: values, nulls, nested JSON, tombstones; stamps from the audit trail', async () => {
    const store = await emptyStore()
    const summary = await importFromSyncKit(url, store, { schema: sourceSchema })
    expect(summary).toMatchObject({
      documents: BULK + 2,
      registers: 12 + 2 * BULK,
      skippedTextDocuments: ['doc-text'],
      skippedClockEntries: 1,
      tombstones: 2,
    })
    expect(normalize(await store.load('doc-values'))).toEqual({
      documentId: 'doc-values',
      registers: expectedRegisters(),
      clock: { 'conn-1': 12, 'conn-2': 5, [SYNCKIT_IMPORT_NODE]: 12 },
    })
    expect(normalize(await store.load('bulk-1099'))).toEqual({
      documentId: 'bulk-1099',
      registers: [
        {
          field: 'label',
          value: 'item 1099',
          deleted: false,
          stamp: { ms: at(UPDATED), counter: 0, node: SYNCKIT_IMPORT_NODE },
          dot: { node: SYNCKIT_IMPORT_NODE, seq: 1 },
        },
        {
          field: 'n',
          value: 1099,
          deleted: false,
          stamp: { ms: at(UPDATED), counter: 0, node: SYNCKIT_IMPORT_NODE },
          dot: { node: SYNCKIT_IMPORT_NODE, seq: 2 },
        },
      ],
      clock: { [SYNCKIT_IMPORT_NODE]: 2 },
    })
    expect(await store.load('doc-text')).toBeUndefined()
    const ids: string[] = []
    for (
      let page = await store.list({ limit: 10_000 });
      page.length > 0;
      page = await store.list({ after: page.at(-1), limit: 10_000 })
    ) {
      ids.push(...page)
    }
    expect(ids).toHaveLength(BULK + 2)
    expect(ids).toContain('doc-empty')
  })

  it('is idempotent, and a later write on this server wins over a re-import', async () => {
    const store = await emptyStore()
    await importFromSyncKit(url, store, { schema: sourceSchema })
    const first = await exportToString(store)
    await importFromSyncKit(url, store, { schema: sourceSchema })
    expect(await exportToString(store)).toBe(first)
    const later: Register = {
      field: 'title',
      value: 'edited here',
      deleted: false,
      stamp: { ms: Date.now(), counter: 0, node: 'node-a' },
      dot: { node: 'node-a', seq: 1 },
    }
    await store.save([{ documentId: 'doc-values', registers: [later], clock: { 'node-a': 1 } }])
    await importFromSyncKit(url, store, { schema: sourceSchema })
    const title = (await store.load('doc-values'))?.registers.find((r) => r.field === 'title')
    expect(title).toEqual(later)
  })

  it('the command reports progress and the skipped text documents', async () => {
    const store = await emptyStore()
    const lines: string[] = []
    const summary = await importFromSyncKitCommand({
      store,
      url,
      schema: sourceSchema,
      progress: { write: (text: string) => lines.push(text), isTTY: false },
    })
    expect(summary.documents).toBe(BULK + 2)
    expect(
      lines.some((l) => l.startsWith(`import from SyncKit: 100% ${BULK + 2}/${BULK + 3} documents`)),
    ).toBe(true)
    expect(lines.at(-1)).toBe('skipped 1 text document(s) (no field form): doc-text\n')
  })
})
