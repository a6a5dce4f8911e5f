import { mergeRegisters } from '../crdt/register.js'
import type { DocumentSnapshot, Register, VectorClock } from '../crdt/types.js'
import { mergeClockInto } from '../crdt/vector-clock.js'
import { encodeKey, encodeValue, validateClock, validateRegister } from './codec.js'

/** A `save` call reduced to the two JSON parameters of the group-commit statement. */
export interface PreparedSave {
  /** `[{d, f, v: [value], e, x, ms, c, n, dn, ds}, ...]` as JSON text. */
  registers: string
  /** `[{d, k: clock}, ...]` as JSON text. */
  clocks: string
  documentCount: number
  registerCount: number
}

/** One document of a save batch after in-batch merging. */
export interface MergedDocument {
  clock: VectorClock
  /** Field -> its LWW winner within the batch. */
  fields: Map<string, Register>
}

/**
 * Validates (throws QUERY_ERROR) and merges a `save` batch in memory: duplicate documents are
 * clock-merged and duplicate fields reduced to their LWW winner (the result the database would
 * reach applying them one by one). Every store writes each row at most once per batch this way.
 */
export function mergeSave(documents: readonly DocumentSnapshot[]): Map<string, MergedDocument> {
  const byDocument = new Map<string, MergedDocument>()
  for (const snapshot of documents) {
    if (typeof snapshot.documentId !== 'string') throw new TypeError('documentId must be a string')
    validateClock(snapshot.clock)
    let pending = byDocument.get(snapshot.documentId)
    if (pending === undefined) {
      pending = { clock: {}, fields: new Map() }
      byDocument.set(snapshot.documentId, pending)
    }
    mergeClockInto(pending.clock, snapshot.clock)
    for (const register of snapshot.registers) {
      validateRegister(register)
      pending.fields.set(register.field, mergeRegisters(pending.fields.get(register.field), register))
    }
  }
  return byDocument
}

/**
 * The batch as the two JSON parameters of the group-commit statement (`SAVE_SQL`): one
 * `INSERT ... ON CONFLICT DO UPDATE` may not touch the same row twice, hence `mergeSave` first.
 */
export function prepareSave(documents: readonly DocumentSnapshot[]): PreparedSave {
  const registers: string[] = []
  const clocks: string[] = []
  const byDocument = mergeSave(documents)
  for (const [documentId, pending] of byDocument) {
    const d = JSON.stringify(encodeKey(documentId))
    clocks.push(`{"d":${d},"k":${JSON.stringify(pending.clock)}}`)
    for (const r of pending.fields.values()) {
      // Wrapped in an array so JSON null stays a jsonb null (a bare null becomes SQL NULL).
      const { json, encoded } = encodeValue(r.deleted ? null : r.value)
      registers.push(
        `{"d":${d},"f":${JSON.stringify(encodeKey(r.field))},"v":[${json}],"e":${encoded},"x":${r.deleted},` +
          `"ms":${r.stamp.ms},"c":${r.stamp.counter},"n":"${r.stamp.node}","dn":"${r.dot.node}","ds":${r.dot.seq}}`,
      )
    }
  }
  return {
    registers: `[${registers.join(',')}]`,
    clocks: `[${clocks.join(',')}]`,
    documentCount: byDocument.size,
    registerCount: registers.length,
  }
}
