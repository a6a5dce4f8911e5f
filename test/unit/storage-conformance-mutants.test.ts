import { describe, expect, it } from 'vitest'
import { registerWins } from '../../src/crdt/register.js'
import type { DocumentSnapshot, Register, VectorClock } from '../../src/crdt/types.js'
import { mergeClockInto } from '../../src/crdt/vector-clock.js'
import type { DocumentStore } from '../../src/server/options.js'
import {
  type ConformanceTestApi,
  defineDocumentStoreConformance,
} from '../../src/testing/store-conformance.js'

/** Defects the conformance suite must catch (most are SyncKit's: D3, D8 and D10 of docs/protocol.md §11). */
type Defect =
  | 'arrival-order'
  | 'falsy-as-null'
  | 'clock-overwrite'
  | 'drop-tombstones'
  | 'no-copies'
  | 'locale-nodes'

class DefectiveStore implements DocumentStore {
  readonly #docs = new Map<string, { registers: Map<string, Register>; clock: VectorClock }>()
  constructor(readonly defect: Defect) {}

  async load(documentId: string): Promise<DocumentSnapshot | undefined> {
    const doc = this.#docs.get(documentId)
    if (doc === undefined) return undefined
    const snapshot = { documentId, registers: [...doc.registers.values()], clock: doc.clock }
    return this.defect === 'no-copies' ? snapshot : structuredClone(snapshot)
  }

  async save(documents: DocumentSnapshot[]): Promise<void> {
    for (const s of this.defect === 'no-copies' ? documents : structuredClone(documents)) {
      const doc = this.#docs.get(s.documentId) ?? { registers: new Map<string, Register>(), clock: {} }
      this.#docs.set(s.documentId, doc)
      for (const r of s.registers) {
        const old = doc.registers.get(r.field)
        if (this.#wins(r, old)) {
          if (r.deleted && this.defect === 'drop-tombstones') doc.registers.delete(r.field)
          else
            doc.registers.set(
              r.field,
              this.defect === 'falsy-as-null' && !r.value ? { ...r, value: null } : r,
            )
        }
      }
      if (this.defect === 'clock-overwrite') Object.assign(doc.clock, s.clock)
      else mergeClockInto(doc.clock, s.clock)
    }
  }

  #wins(r: Register, old: Register | undefined): boolean {
    if (this.defect === 'arrival-order' || old === undefined) return true
    if (
      this.defect === 'locale-nodes' &&
      r.stamp.ms === old.stamp.ms &&
      r.stamp.counter === old.stamp.counter
    ) {
      return r.stamp.node.localeCompare(old.stamp.node) > 0
    }
    return registerWins(r, old)
  }
}

/** Runs the suite with a minimal harness and returns the names of the cases that failed. */
async function failingCases(defect: Defect): Promise<string[]> {
  const cases: Array<{ name: string; fn: () => Promise<void> }> = []
  const harness: ConformanceTestApi = {
    describe: (_name, fn) => fn(),
    it: (name, fn) => cases.push({ name, fn }),
    expect,
  }
  defineDocumentStoreConformance(harness, defect, async () => ({
    store: new DefectiveStore(defect),
    cleanup: async () => {},
  }))
  const failed: string[] = []
  for (const c of cases) await c.fn().catch(() => failed.push(c.name))
  return failed
}

describe('the store conformance suite catches broken stores', () => {
  it.each<[Defect, string]>([
    ['arrival-order', 'an older stamp never overwrites a newer one, whatever the order'],
    ['falsy-as-null', 'round-trips every JSON type exactly, falsy values included'],
    ['clock-overwrite', 'vector clocks are max-merged per node'],
    ['drop-tombstones', 'keeps tombstones with their stamps; stale writes do not resurrect'],
    ['no-copies', 'returned snapshots are copies, and saved input is not retained'],
    ['locale-nodes', 'an older stamp never overwrites a newer one, whatever the order'],
  ])('%s', async (defect, expected) => {
    expect(await failingCases(defect)).toContain(expected)
  })
})
