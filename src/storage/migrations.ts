import type { SqlDriver, SqlQueryable } from './driver.js'
import { assertSchemaName } from './driver.js'
import { StoreError, toStoreError } from './errors.js'

/** One schema migration. */
export interface Migration {
  version: number
  name: string
  /** Single statements (PGlite's parameterised `query` runs one statement at a time). */
  statements: readonly string[]
}

/** Append-only: never edit a released migration, add a new version. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'registers and documents',
    statements: [
      // Collation "C" (byte order) everywhere a key is compared or ordered: the LWW tie-break on
      // stamp_node must match JS `<` on every node, and list() pages by document_id.
      `create table synckit_documents (
        document_id text collate "C" primary key,
        clock jsonb not null default '{}'::jsonb,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`,
      `create table synckit_registers (
        document_id text collate "C" not null,
        field text collate "C" not null,
        value jsonb not null,
        value_encoded boolean not null default false,
        deleted boolean not null,
        stamp_ms bigint not null,
        stamp_counter integer not null,
        stamp_node text collate "C" not null,
        dot_node text collate "C" not null,
        dot_seq bigint not null,
        primary key (document_id, field)
      )`,
      // Pointwise max of two vector clocks ({node: seq}); missing entries count as absent.
      `create or replace function synckit_merge_clocks(a jsonb, b jsonb) returns jsonb
        language sql immutable as $$
          select coalesce(jsonb_object_agg(key, seq), '{}'::jsonb)
          from (
            select key, max(value::numeric) as seq
            from (select * from jsonb_each(coalesce(a, '{}'::jsonb))
                  union all select * from jsonb_each(coalesce(b, '{}'::jsonb))) entries
            group by key
          ) merged
        $$`,
    ],
  },
]

/** The schema version the migrations reach. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0)

// Key space of pg_advisory_xact_lock(int, int): first int "synckit", second the schema's hash.
export const MIGRATION_LOCK_CLASS = 0x53594e43

/** Default of `lockTimeoutMs`: long enough for another node's migration of a large table to finish. */
export const DEFAULT_MIGRATION_LOCK_TIMEOUT_MS = 30_000

/** What `migrate` did. */
export interface MigrationResult {
  /** Versions applied by this call (empty when another node or an earlier start applied them). */
  applied: number[]
  /** Highest version recorded in the database after this call. */
  version: number
}

/**
 * Brings the schema up to `MIGRATIONS` in one transaction. The advisory lock makes nodes that start
 * at once take turns: the first applies, the others then see the version rows and do nothing.
 * A database newer than this code (rolling deploy) is left alone. Waiting for a lock (that turn,
 * or a long transaction holding the tables) is bounded by `lockTimeoutMs`: startup then fails with
 * a `StoreError` (SQLSTATE 55P03) instead of hanging.
 */
export async function migrate(
  driver: SqlDriver,
  options: { schema?: string; lockTimeoutMs?: number } = {},
): Promise<MigrationResult> {
  if (options.schema !== undefined) assertSchemaName(options.schema)
  const lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_MIGRATION_LOCK_TIMEOUT_MS
  if (!(lockTimeoutMs > 0) || !Number.isFinite(lockTimeoutMs)) {
    throw new RangeError(`invalid lockTimeoutMs ${lockTimeoutMs}: expected a positive number`)
  }
  const run = async (tx: SqlQueryable): Promise<MigrationResult> => {
    // `set local`: the bound ends with this transaction and never leaks into pooled connections.
    await tx.query(`select set_config('lock_timeout', $1::text, true)`, [`${Math.ceil(lockTimeoutMs)}ms`])
    await tx.query('select pg_advisory_xact_lock($1::int, hashtext($2::text))', [
      MIGRATION_LOCK_CLASS,
      options.schema ?? '',
    ])
    if (options.schema !== undefined) await tx.query(`create schema if not exists "${options.schema}"`, [])
    await tx.query(
      `create table if not exists synckit_schema_version (
        version integer primary key,
        name text not null,
        applied_at timestamptz not null default now()
      )`,
      [],
    )
    const rows = await tx.query('select version from synckit_schema_version', [])
    const done = new Set(rows.map((row) => Number(row.version)))
    const applied: number[] = []
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue
      for (const statement of migration.statements) await tx.query(statement, [])
      await tx.query('insert into synckit_schema_version (version, name) values ($1::int, $2::text)', [
        migration.version,
        migration.name,
      ])
      applied.push(migration.version)
    }
    return { applied, version: Math.max(LATEST_SCHEMA_VERSION, ...done) }
  }
  if (driver.transaction === undefined) {
    throw new StoreError('QUERY_ERROR', 'migrations need a driver with transaction support')
  }
  try {
    return await driver.transaction(run)
  } catch (error) {
    const storeError = toStoreError(error, 'migrate')
    if (storeError.sqlState !== LOCK_NOT_AVAILABLE) throw storeError
    throw new StoreError(
      'QUERY_ERROR',
      `migrate: waited more than ${lockTimeoutMs} ms for a lock (another node migrating, or a long transaction on the synckit tables)`,
      { cause: error, sqlState: LOCK_NOT_AVAILABLE },
    )
  }
}

/** SQLSTATE of a `lock_timeout` expiry. */
const LOCK_NOT_AVAILABLE = '55P03'
