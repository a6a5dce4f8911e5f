import { describe, expect, it } from 'vitest'
import type { DocumentSnapshot } from '../../src/crdt/types.js'
import type { PersistEffect, Resolution } from '../../src/engine/types.js'
import { MAX_PERSIST_PACE_MS, PersistQueue } from '../../src/server/persist-queue.js'

/**
 * A queue on a hand-driven clock and loop: `tick()` runs what `soon` queued (the end of the
 * current callback), `turn()` what `later` queued (the next loop iteration), `advance()` timers.
 */
function harness(options: { refuse?: (effect: PersistEffect) => boolean; failAll?: () => boolean } = {}) {
  let time = 0
  let soon: (() => void)[] = []
  let laters: (() => void)[] = []
  let timers: { at: number; task: () => void }[] = []
  const saves: PersistEffect[] = []
  const pending: (() => void)[] = []
  const queue = new PersistQueue({
    save: (effect) => {
      saves.push(effect)
      return new Promise<Resolution>((resolve) => {
        pending.push(() => {
          const refused = options.failAll?.() || options.refuse?.(effect)
          resolve(
            refused
              ? { kind: 'persist-failed', batchId: effect.batchId, error: 'QUERY_ERROR' }
              : { kind: 'persisted', batchId: effect.batchId },
          )
        })
      })
    },
    soon: (task) => soon.push(task),
    later: (task) => laters.push(task),
    after: (ms, task) => timers.push({ at: time + ms, task }),
    now: () => time,
  })
  const answers = new Map<number, Resolution>()
  const run = (tasks: (() => void)[]) => {
    for (const task of tasks) task()
  }
  return {
    saves,
    answers,
    persist(batchId: number, documentId = `doc-${batchId}`): void {
      const documents: DocumentSnapshot[] = [{ documentId, registers: [], clock: { n: batchId } }]
      void queue.persist({ kind: 'persist', batchId, documents }).then((r) => answers.set(batchId, r))
    },
    tick(): void {
      const tasks = soon
      soon = []
      run(tasks)
    },
    turn(): void {
      const tasks = laters
      laters = []
      run(tasks)
    },
    advance(ms: number): void {
      time += ms
      const due = timers.filter((t) => t.at <= time)
      timers = timers.filter((t) => t.at > time)
      run(due.map((t) => t.task))
    },
    /** Completes the oldest save in flight, lets its promise chain run, then the `soon` tasks. */
    async settle(): Promise<void> {
      pending.shift()?.()
      for (let i = 0; i < 10; i++) await Promise.resolve()
      this.tick()
    },
  }
}

describe('PersistQueue: group commit across turns', () => {
  it('never saves inside the callback that asked, and answers each batch with its own id', async () => {
    const h = harness()
    h.persist(1)
    expect(h.saves).toHaveLength(0)
    h.tick()
    expect(h.saves.map((s) => s.batchId)).toEqual([1])
    h.turn()
    await h.settle()
    expect(h.answers.get(1)).toEqual({ kind: 'persisted', batchId: 1 })
  })

  it('saves the batches that arrived during a save together, in one call', async () => {
    const h = harness()
    h.persist(1)
    h.tick()
    h.turn() // the loop runs while the store works: it does not hold the loop
    h.persist(2)
    h.persist(3, 'doc-1')
    h.tick()
    expect(h.saves).toHaveLength(1)
    await h.settle()
    expect(h.saves).toHaveLength(2)
    expect(h.saves[1]?.documents.map((d) => d.documentId)).toEqual(['doc-2', 'doc-1'])
    h.turn()
    await h.settle()
    expect([...h.answers.entries()].sort()).toEqual([
      [1, { kind: 'persisted', batchId: 1 }],
      [2, { kind: 'persisted', batchId: 2 }],
      [3, { kind: 'persisted', batchId: 3 }],
    ])
  })

  it('paces a store that holds the event loop: the next save waits twice as long as it held it', async () => {
    const h = harness()
    h.persist(1)
    h.tick()
    h.advance(2) // 2 ms inside the store, and it settles before the loop gets control back
    await h.settle()
    h.persist(2)
    h.tick()
    h.advance(3)
    expect(h.saves).toHaveLength(1)
    h.advance(1)
    expect(h.saves).toHaveLength(2)
  })

  it(`pauses at most ${MAX_PERSIST_PACE_MS} ms, and not at all for a store that lets the loop run`, async () => {
    const h = harness()
    h.persist(1)
    h.tick()
    h.advance(100)
    await h.settle()
    h.persist(2)
    h.tick()
    h.advance(MAX_PERSIST_PACE_MS)
    expect(h.saves).toHaveLength(2)
    h.turn() // this time the loop ran before the save settled
    await h.settle()
    h.persist(3)
    h.tick()
    expect(h.saves).toHaveLength(3)
  })

  it('retries a failed group batch by batch: the one the store refuses fails alone', async () => {
    const h = harness({ refuse: (effect) => effect.documents.some((d) => d.documentId === 'doc-3') })
    h.persist(1)
    h.tick()
    h.turn()
    for (const id of [2, 3, 4]) h.persist(id)
    for (let i = 0; i < 5; i++) {
      h.turn()
      await h.settle() // 1, the group of 2+3+4, then each alone
    }
    expect(h.saves.map((s) => s.documents.map((d) => d.documentId).join('+'))).toEqual([
      'doc-1',
      'doc-2+doc-3+doc-4',
      'doc-2',
      'doc-3',
      'doc-4',
    ])
    expect(h.answers.get(2)?.kind).toBe('persisted')
    expect(h.answers.get(3)).toEqual({ kind: 'persist-failed', batchId: 3, error: 'QUERY_ERROR' })
    expect(h.answers.get(4)?.kind).toBe('persisted')
  })

  it('when the store is down, stops after two batches failed alone and answers the rest failed', async () => {
    const h = harness({ failAll: () => true })
    h.persist(1)
    h.tick()
    h.turn()
    for (const id of [2, 3, 4, 5]) h.persist(id)
    for (let i = 0; i < 4; i++) {
      h.turn()
      await h.settle()
    }
    expect(h.saves).toHaveLength(4) // 1, the group, 2 alone, 3 alone
    expect([2, 3, 4, 5].map((id) => h.answers.get(id)?.kind)).toEqual(Array(4).fill('persist-failed'))
  })
})
