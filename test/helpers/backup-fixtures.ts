import { PassThrough, Writable } from 'node:stream'
import { type ExportOptions, exportDocuments } from '../../src/backup/export.js'
import type { DocumentSnapshot } from '../../src/crdt/types.js'
import type { DocumentStore } from '../../src/server/options.js'
import { register } from '../../src/testing/store-fixtures.js'

/** Exports `store` to a string. */
export async function exportToString(store: DocumentStore, options: ExportOptions = {}): Promise<string> {
  const chunks: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'))
      callback()
    },
  })
  await exportDocuments(store, sink, options)
  return chunks.join('')
}

/** A readable of `text`, cut into chunks of `size` bytes (to cross line and UTF-8 boundaries). */
export function streamOf(text: string | Uint8Array, size = 64 * 1024): PassThrough {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text)
  const stream = new PassThrough()
  for (let i = 0; i < bytes.length; i += size) stream.write(bytes.subarray(i, i + size))
  stream.end()
  return stream
}

/**
 * Documents that exercise everything a backup must keep: nested values whose key order a store may
 * change, null, tombstones, unicode, keys Postgres text cannot hold (NUL, lone surrogates),
 * `__proto__`, several stamp nodes and clock entries, and one large document.
 */
export function sampleDocuments(): DocumentSnapshot[] {
  const big = Array.from({ length: 250 }, (_, i) =>
    register(
      `field-${String(i).padStart(4, '0')}`,
      { i, text: 'x'.repeat(i % 17) },
      { ms: 1000 + i, seq: i + 1 },
    ),
  )
  return [
    {
      documentId: 'doc-a',
      registers: [
        register('title', 'Hello, wörld 👋', { ms: 10, seq: 1 }),
        register('nested', { z: 1, a: { y: [1, 2, { c: null, b: true }], x: -0.5 } }, { ms: 11, seq: 2 }),
        register('nothing', null, { ms: 12, seq: 3 }),
        register('gone', null, { ms: 13, seq: 4, deleted: true }),
        register('remote', 42, { ms: 13, counter: 5, node: 'node-b', seq: 9 }),
        register('__proto__', { polluted: true }, { ms: 14, seq: 5 }),
        register('nul\u0000field', 'nul\u0000value', { ms: 15, seq: 6 }),
        register('lone\ud800', 'lone\udfff', { ms: 16, seq: 7 }),
        register('big-number', 2 ** 53 - 1, { ms: 17, seq: 8 }),
      ],
      clock: { 'node-a': 8, 'node-b': 9, 'client:7': 3 },
    },
    { documentId: 'doc-b:empty', registers: [], clock: { 'node-a': 2 } },
    { documentId: 'doc-c', registers: big, clock: { 'node-a': 250 } },
    {
      documentId: 'id with spaces/ünïcode',
      registers: [register('k', [[], {}, ''], { ms: 5 })],
      clock: { 'node-a': 5 },
    },
  ]
}

/**
 * SyncKit's TypeScript server tables, as its schema.sql lays them out (ids: `gen_random_uuid()`
 * instead of the uuid-ossp extension, which the import never reads).
 */
export const SYNCKIT_TABLES = [
  `create table documents (
     id varchar(255) primary key,
     state jsonb not null default '{}',
     created_at timestamptz not null default now(),
     updated_at timestamptz not null default now(),
     version bigint not null default 1)`,
  `create table vector_clocks (
     document_id varchar(255) not null references documents(id) on delete cascade,
     client_id varchar(255) not null,
     clock_value bigint not null,
     updated_at timestamptz not null default now(),
     primary key (document_id, client_id))`,
  `create table deltas (
     id uuid primary key default gen_random_uuid(),
     document_id varchar(255) not null references documents(id) on delete cascade,
     client_id varchar(255) not null,
     operation_type varchar(50) not null,
     field_path varchar(500) not null,
     value jsonb,
     clock_value bigint not null,
     timestamp timestamptz not null default now())`,
]
