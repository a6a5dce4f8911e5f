import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import type { SyncClient } from '../../src/client/types.js'
import { killAll, type NodeProcess, startNode } from '../helpers/node-process.js'
import { dropSchema, postgresAvailable, testSchemaName } from '../helpers/services.js'
import { within } from '../helpers/wait-for.js'
import { AckTracker, type DocState, databaseState, makeClient, readThrough } from './support.js'

/**
 * Acked means durable: a node is killed with SIGKILL (no shutdown, no flush) at the moment a
 * client receives an ack, with more writes in flight. After a restart every acked write is there.
 * "Acked" is the server's `ack` frame (both dialects, see `AckTracker`). Writes go to distinct
 * fields (plus deletes of acked fields), so "acked ⇒ present" and "acked delete ⇒ absent" can be
 * checked exactly; writes in flight at the kill may land or not.
 */
const pg = await postgresAvailable()
if ('skip' in pg) console.log(`[crash] Postgres part skipped: ${pg.skip}`)
const pgUrl = 'url' in pg ? pg.url : ''

const DOCS = ['crash-doc-a', 'crash-doc-b'] as const
/** The node is killed when this many writes (over both writers) have been acked. */
const KILL_AFTER_ACKS = 60
const WINDOW = 6

const clients: SyncClient[] = []
afterEach(() => {
  for (const client of clients.splice(0)) client.close()
})
afterAll(async () => {
  await killAll()
})

interface Outcome {
  /** Acked sets not deleted by a later acked delete: documentId → field → value. */
  acked: Map<string, Map<string, string>>
  /** Acked deletes: `documentId\u0000field`. */
  deleted: Set<string>
  /** Deletes sent (acked or not): such a field may be gone whatever its set's ack said. */
  deleteSent: Set<string>
  ackedCount: number
  inFlightAtKill: number
}

/**
 * Two writers (SDK and legacy dialect) on `node`; the node is SIGKILLed from inside the client
 * callback of the ack that reaches the bound, with more writes in flight.
 */
async function writeUntilKilled(node: NodeProcess): Promise<Outcome> {
  const outcome: Outcome = {
    acked: new Map(DOCS.map((d) => [d, new Map<string, string>()])),
    deleted: new Set(),
    deleteSent: new Set(),
    ackedCount: 0,
    inFlightAtKill: 0,
  }
  const tracker = new AckTracker()
  const writers = [
    makeClient({ url: node.url, dialect: 'sdk', reconnect: false, clientId: 'crash-sdk', tracker }),
    makeClient({ url: node.url, dialect: 'legacy', reconnect: false, clientId: 'crash-legacy', tracker }),
  ]
  clients.push(...writers)
  await within(Promise.all(writers.map((w) => w.connect())), 15_000, 'connect')
  for (const documentId of DOCS) {
    await within(Promise.all(writers.map((w) => w.subscribe(documentId))), 15_000, 'subscribe')
  }
  let killed = false
  tracker.onAck = (writes) => {
    if (killed) return
    for (const { documentId, field, value } of writes) {
      const fields = outcome.acked.get(documentId) as Map<string, string>
      if (value === undefined) {
        fields.delete(field)
        outcome.deleted.add(`${documentId}\u0000${field}`)
      } else {
        fields.set(field, value as string)
      }
    }
    outcome.ackedCount++
    if (outcome.ackedCount < KILL_AFTER_ACKS) return
    killed = true
    outcome.inFlightAtKill = tracker.sent.size
    // Synchronously, in the ack's own callback: the server gets no chance to do anything else.
    node.child.kill('SIGKILL')
  }
  const run = async (w: number): Promise<void> => {
    const writer = writers[w] as SyncClient
    const pending = new Set<Promise<void>>()
    for (let op = 0; !killed && op < 1000; op++) {
      const documentId = DOCS[op % DOCS.length] as string
      const ackedHere = outcome.acked.get(documentId) as Map<string, string>
      // Every 5th op deletes one of this writer's acked fields (if any); the rest set new fields.
      const victim =
        op % 5 === 4
          ? [...ackedHere.keys()].find(
              (f) => f.startsWith(`w${w}-`) && !outcome.deleteSent.has(`${documentId}\u0000${f}`),
            )
          : undefined
      let write: Promise<void>
      if (victim !== undefined) {
        outcome.deleteSent.add(`${documentId}\u0000${victim}`)
        write = writer.delete(documentId, victim)
      } else {
        write = writer.set(documentId, `w${w}-${op}`, `v${w}-${op}`)
      }
      const settled: Promise<void> = write.then(
        () => {},
        () => {},
      )
      pending.add(settled)
      void settled.finally(() => pending.delete(settled))
      if (pending.size >= WINDOW) await Promise.race(pending)
    }
  }
  const runs = Promise.all([run(0), run(1)])
  await within(node.exit, 30_000, 'the SIGKILLed node to exit')
  expect(killed).toBe(true)
  // Whatever was not acked before the kill is rejected now, and never counted as acked.
  for (const writer of writers) writer.close()
  await within(runs, 10_000, 'writers stop')
  return outcome
}

/** Every acked set is present with its value; every acked delete is absent. */
function missingAcked(state: Record<string, DocState>, outcome: Outcome): string[] {
  const problems: string[] = []
  for (const [documentId, fields] of outcome.acked) {
    for (const [field, value] of fields) {
      if (outcome.deleteSent.has(`${documentId}\u0000${field}`)) continue
      if (state[documentId]?.[field] !== value)
        problems.push(`${documentId}.${field}: acked ${value}, found ${String(state[documentId]?.[field])}`)
    }
  }
  for (const key of outcome.deleted) {
    const [documentId = '', field = ''] = key.split('\u0000')
    if (state[documentId] && field in state[documentId])
      problems.push(`${documentId}.${field}: delete acked, still present`)
  }
  return problems
}

describe('SIGKILL right after acks', () => {
  it.skipIf(!pgUrl)(
    'Postgres: every acked write is present after a restart',
    async () => {
      const schema = testSchemaName()
      try {
        const options = { storage: pgUrl, env: { SYNCKIT_PG_SCHEMA: schema }, startupTimeoutMs: 60_000 }
        const first = await startNode({ nodeId: 'crash-pg-1', ...options })
        const outcome = await writeUntilKilled(first)
        expect(first.child.signalCode).toBe('SIGKILL')
        expect(outcome.ackedCount).toBeGreaterThanOrEqual(KILL_AFTER_ACKS)

        const second = await startNode({ nodeId: 'crash-pg-2', ...options })
        try {
          const state = await readThrough(second.url, 'legacy', DOCS)
          expect(missingAcked(state, outcome)).toEqual([])
          // The database itself, read by a fresh store.
          expect(missingAcked(await databaseState(pgUrl, schema, DOCS), outcome)).toEqual([])
          console.log(
            `[crash] postgres: ${outcome.ackedCount} acked (${outcome.deleted.size} deletes), ` +
              `${outcome.inFlightAtKill} in flight at SIGKILL; all acked present after restart`,
          )
        } finally {
          await second.kill('SIGTERM').catch(() => second.kill('SIGKILL'))
        }
      } finally {
        await dropSchema(pgUrl, schema)
      }
    },
    150_000,
  )

  // `embedded` is the CLI's default (SQLite); `pglite` the Postgres-in-WebAssembly store.
  for (const [storage, label] of [
    ['embedded', 'SQLite'],
    ['pglite', 'PGlite'],
  ] as const) {
    it(`embedded store (${label} data directory): every acked write is present after a restart on the same directory`, async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'synckit-crash-'))
      try {
        // A fresh PGlite data directory runs initdb in WebAssembly: slow on a shared machine.
        const options = { storage, dataDir, startupTimeoutMs: 150_000 }
        const first = await startNode({ nodeId: `crash-${storage}-1`, ...options })
        const outcome = await writeUntilKilled(first)
        expect(first.child.signalCode).toBe('SIGKILL')

        // The SIGKILLed node's lock on the directory went with it.
        const second = await startNode({ nodeId: `crash-${storage}-2`, ...options })
        try {
          const state = await readThrough(second.url, 'sdk', DOCS)
          expect(missingAcked(state, outcome)).toEqual([])
          console.log(
            `[crash] ${label}: ${outcome.ackedCount} acked (${outcome.deleted.size} deletes), ` +
              `${outcome.inFlightAtKill} in flight at SIGKILL; all acked present after restart`,
          )
        } finally {
          await second.kill('SIGTERM').catch(() => second.kill('SIGKILL'))
        }
      } finally {
        await rm(dataDir, { recursive: true, force: true })
      }
    }, 300_000)
  }
})
