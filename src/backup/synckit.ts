import postgres from 'postgres'
import type { DocumentSnapshot, JsonValue, Register, VectorClock } from '../crdt/types.js'
import { setOwn } from '../protocol/own.js'
import { utf8Length } from '../protocol/utf8.js'
import type { DocumentStore } from '../server/options.js'
import { isValidNodeId, toSafeInt } from '../storage/codec.js'
import { assertSchemaName } from '../storage/driver.js'
import type { BackupProgress } from './export.js'

/**
 * Node id of every stamp and dot the SyncKit import writes. SyncKit kept no per-field stamps, so
 * the import makes them up, deterministically (see `importFromSyncKit`).
 */
export const SYNCKIT_IMPORT_NODE = 'synckit-import'

/** Options of `importFromSyncKit`. */
export interface SyncKitImportOptions {
  /** Schema holding SyncKit's tables. Default: the connection's search_path (usually `public`). */
  schema?: string
  /** Documents per `store.save` call at most (a batch also closes at 5000 registers). Default 100. */
  batchDocuments?: number
  /** Called after every document; `bytes` counts the JSON text of the `state` column read. */
  onProgress?: (progress: BackupProgress) => void
}

/** What a SyncKit import copied and what it skipped. */
export interface SyncKitImportSummary extends BackupProgress {
  /** Documents SyncKit stored as text (`state.type = 'text'`): they have no fields and are not imported. */
  skippedTextDocuments: string[]
  /** `vector_clocks` entries whose client id cannot be a node id here (not `A-Z a-z 0-9 . _ : -`). */
  skippedClockEntries: number
  /** Fields deleted in SyncKit (a `delete` as their last `deltas` row), imported as tombstones. */
  tombstones: number
}

interface FieldWrite {
  operation: string
  ms: number
}

const PAGE = 500
const BATCH_REGISTERS = 5000

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x)

/** SyncKit's delete marker as a stored value. */
const isTombstoneMarker = (value: unknown): boolean => isObject(value) && value.__deleted === true

/**
 * Copies a SyncKit TypeScript server's documents (its `documents`, `vector_clocks` and `deltas`
 * tables) into `store`. Read-only on the SyncKit side; one document in memory at a time.
 *
 * Field documents (`state = {id, fields: {name: value}}`): every field becomes a register with its
 * value as stored (null stays null, nested JSON as is); a stored `{"__deleted": true}` becomes a
 * tombstone, and so does a field absent from `state` whose last `deltas` row is a `delete`.
 *
 * Stamps: SyncKit stored values only, so each register gets
 * `{ms: the field's last write, counter: 0, node: 'synckit-import'}`, where the last write is the
 * newest `deltas.timestamp` of that field, or the document's `updated_at` when the audit trail has
 * none (SyncKit prunes deltas after 30 days). Dots are `('synckit-import', 1…n)` in field order
 * and the document clock gets `synckit-import: n` plus SyncKit's own `vector_clocks` entries
 * (`conn-N`). The same database gives the same registers, so a re-import changes nothing; any
 * write made on this server afterwards has a newer stamp and wins.
 */
export async function importFromSyncKit(
  postgresUrl: string,
  store: DocumentStore,
  options: SyncKitImportOptions = {},
): Promise<SyncKitImportSummary> {
  if (options.schema !== undefined) assertSchemaName(options.schema)
  const sql = postgres(postgresUrl, {
    max: 1,
    onnotice: () => {},
    ...(options.schema === undefined ? {} : { connection: { search_path: options.schema } }),
  })
  const summary: SyncKitImportSummary = {
    documents: 0,
    registers: 0,
    bytes: 0,
    skippedTextDocuments: [],
    skippedClockEntries: 0,
    tombstones: 0,
  }
  const batchDocuments = Math.max(1, options.batchDocuments ?? 100)
  let batch: DocumentSnapshot[] = []
  let batchRegisters = 0
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return
    const documents = batch
    batch = []
    batchRegisters = 0
    await store.save(documents)
  }
  try {
    let after: string | null = null
    for (;;) {
      const page: { id: string }[] = await sql.unsafe(
        `select id from documents where $1::text is null or id collate "C" > $1::text
         order by id collate "C" limit ${PAGE}`,
        [after],
      )
      for (const { id } of page) {
        const snapshot = await readDocument(sql, id, summary)
        if (!snapshot) continue
        batch.push(snapshot)
        batchRegisters += snapshot.registers.length
        summary.documents++
        summary.registers += snapshot.registers.length
        if (batch.length >= batchDocuments || batchRegisters >= BATCH_REGISTERS) await flush()
        options.onProgress?.({
          documents: summary.documents,
          registers: summary.registers,
          bytes: summary.bytes,
        })
      }
      if (page.length < PAGE) break
      after = page[page.length - 1]?.id ?? null
    }
    await flush()
    return summary
  } finally {
    await sql.end({ timeout: 5 })
  }
}

/** Counts SyncKit's documents (for the progress bar's ETA). */
export async function countSyncKitDocuments(postgresUrl: string, schema?: string): Promise<number> {
  if (schema !== undefined) assertSchemaName(schema)
  const sql = postgres(postgresUrl, {
    max: 1,
    onnotice: () => {},
    ...(schema === undefined ? {} : { connection: { search_path: schema } }),
  })
  try {
    const [row] = await sql.unsafe('select count(*)::text as n from documents')
    return toSafeInt(row?.n, 'document count')
  } finally {
    await sql.end({ timeout: 5 })
  }
}

type Sql = ReturnType<typeof postgres>

async function readDocument(
  sql: Sql,
  id: string,
  summary: SyncKitImportSummary,
): Promise<DocumentSnapshot | undefined> {
  // `state::text` keeps the JSON exactly as Postgres has it (the driver would parse jsonb anyway).
  const [row] = await sql.unsafe(
    `select state::text as state, floor(extract(epoch from updated_at) * 1000)::text as updated_ms
     from documents where id = $1`,
    [id],
  )
  if (!row) return undefined // deleted since the page was read
  const stateText = String(row.state)
  summary.bytes += utf8Length(stateText)
  const state: unknown = JSON.parse(stateText)
  if (isObject(state) && state.type === 'text') {
    summary.skippedTextDocuments.push(id)
    return undefined
  }
  const fields = isObject(state) && isObject(state.fields) ? state.fields : {}
  const updatedMs = toSafeInt(row.updated_ms, 'documents.updated_at')
  const writes = await lastWrites(sql, id)

  const entries: { field: string; value: JsonValue; deleted: boolean; ms: number }[] = []
  for (const [field, value] of Object.entries(fields)) {
    const deleted = isTombstoneMarker(value)
    entries.push({
      field,
      value: deleted ? null : (value as JsonValue),
      deleted,
      ms: writes.get(field)?.ms ?? updatedMs,
    })
  }
  for (const [field, write] of writes) {
    if (write.operation === 'delete' && !Object.hasOwn(fields, field)) {
      entries.push({ field, value: null, deleted: true, ms: write.ms })
    }
  }
  entries.sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0))
  const registers: Register[] = entries.map((entry, index) => ({
    field: entry.field,
    value: entry.value,
    deleted: entry.deleted,
    stamp: { ms: entry.ms, counter: 0, node: SYNCKIT_IMPORT_NODE },
    dot: { node: SYNCKIT_IMPORT_NODE, seq: index + 1 },
  }))
  summary.tombstones += entries.filter((entry) => entry.deleted).length

  const clock: VectorClock = {}
  const clockRows = await sql.unsafe(
    'select client_id, clock_value::text as value from vector_clocks where document_id = $1',
    [id],
  )
  for (const { client_id: clientId, value } of clockRows) {
    if (!isValidNodeId(clientId) || clientId === SYNCKIT_IMPORT_NODE) {
      summary.skippedClockEntries++
      continue
    }
    setOwn(clock, clientId, toSafeInt(value, 'vector_clocks.clock_value'))
  }
  if (registers.length > 0) setOwn(clock, SYNCKIT_IMPORT_NODE, registers.length)
  return { documentId: id, registers, clock }
}

/** The newest `deltas` row of every field of a document: its operation and time (ms). */
async function lastWrites(sql: Sql, id: string): Promise<Map<string, FieldWrite>> {
  const rows = await sql.unsafe(
    `select distinct on (field_path) field_path, operation_type,
            floor(extract(epoch from timestamp) * 1000)::text as ms
     from deltas where document_id = $1
     order by field_path, timestamp desc, clock_value desc, operation_type`,
    [id],
  )
  const writes = new Map<string, FieldWrite>()
  for (const row of rows) {
    writes.set(String(row.field_path), {
      operation: String(row.operation_type),
      ms: toSafeInt(row.ms, 'deltas.timestamp'),
    })
  }
  return writes
}
