/**
 * The store's SQL, shared by every driver. Tables are unqualified: the driver's search_path
 * selects the schema.
 */

/**
 * Group commit: every register and clock of a `save` call in ONE statement (one round trip, one
 * implicit transaction). $1 = registers JSON, $2 = clocks JSON (see `prepareSave`). Passed as text
 * and cast in SQL so no driver applies its own JSON serialisation.
 *
 * LWW in SQL: a row is replaced only by a strictly greater (ms, counter, node) stamp, compared in
 * byte order, so concurrent nodes converge whatever the commit order and replays change nothing.
 * Inputs are sorted so concurrent batches lock rows in the same order (fewer deadlocks; those
 * left are retried).
 */
export const SAVE_SQL = `
with docs as (
  insert into synckit_documents as t (document_id, clock)
  select c.d, c.k from jsonb_to_recordset($2::text::jsonb) as c(d text, k jsonb)
  order by c.d collate "C"
  on conflict (document_id) do update
    set clock = synckit_merge_clocks(t.clock, excluded.clock), updated_at = now()
  returning 1
), regs as (
  insert into synckit_registers as t
    (document_id, field, value, value_encoded, deleted, stamp_ms, stamp_counter, stamp_node, dot_node, dot_seq)
  select r.d, r.f, r.v -> 0, r.e, r.x, r.ms, r.c, r.n, r.dn, r.ds
  from jsonb_to_recordset($1::text::jsonb)
    as r(d text, f text, v jsonb, e boolean, x boolean, ms bigint, c integer, n text, dn text, ds bigint)
  order by r.d collate "C", r.f collate "C"
  on conflict (document_id, field) do update
    set value = excluded.value, value_encoded = excluded.value_encoded, deleted = excluded.deleted,
        stamp_ms = excluded.stamp_ms, stamp_counter = excluded.stamp_counter,
        stamp_node = excluded.stamp_node, dot_node = excluded.dot_node, dot_seq = excluded.dot_seq
    where (excluded.stamp_ms, excluded.stamp_counter, excluded.stamp_node collate "C")
        > (t.stamp_ms, t.stamp_counter, t.stamp_node collate "C")
  returning 1
)
select (select count(*) from docs)::int as documents, (select count(*) from regs)::int as registers`

/**
 * A whole document in one query and one row: the registers aggregated into one JSON text, which
 * the client parses once (much cheaper than one driver row per field for 10,000 fields). bigint
 * columns travel as JSON strings so nothing is rounded on the way.
 */
export const LOAD_SQL = `
select d.clock::text as clock,
  coalesce((
    select json_agg(json_build_array(r.field, r.value, r.value_encoded, r.deleted, r.stamp_ms::text,
      r.stamp_counter, r.stamp_node, r.dot_node, r.dot_seq::text))
    from synckit_registers r where r.document_id = d.document_id
  ), '[]'::json)::text as registers
from synckit_documents d where d.document_id = $1::text`

/** Keyset pagination in byte order. */
export const LIST_SQL = `
select document_id from synckit_documents
where ($1::text is null or document_id > $1::text)
  and ($3::text is null or (document_id >= $3::text and starts_with(document_id, $3::text)))
order by document_id collate "C" limit $2::int`

export const DELETE_SQL = `
with regs as (delete from synckit_registers where document_id = $1::text)
delete from synckit_documents where document_id = $1::text returning 1 as deleted`
