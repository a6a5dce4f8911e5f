import type { JsonValue } from '../protocol/types.js'
import { noteWriter } from './changes.js'
import type { EngineContext } from './context.js'
import { touch } from './documents.js'
import type { DocumentEntry } from './state.js'
import { markApplied, registerBytes, setFieldBytes } from './writes.js'

/**
 * Initial fields for a document the store did not have (`onLoadDocument`): written by this node
 * like any write (stamped now, persisted by the next flush, announced with the server as actor),
 * so once stored the document is loaded from the store and never seeded again.
 */
export function seedDocument(
  ctx: EngineContext,
  entry: DocumentEntry,
  fields: Readonly<Record<string, JsonValue>>,
): void {
  const doc = entry.doc
  if (!doc) return
  for (const [field, value] of Object.entries(fields)) {
    const { register, applied } = doc.localWrite({
      field,
      value,
      deleted: false,
      stamp: ctx.hlc.now(ctx.now),
      minSeq: doc.clockMax() + 1,
    })
    if (!applied) continue
    markApplied(entry, register)
    noteWriter(entry, field, 'server')
    setFieldBytes(entry, field, registerBytes(field, value, false))
  }
  touch(ctx, entry)
}
