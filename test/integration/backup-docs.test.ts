import { createReadStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createGunzip } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { copyThroughFile, exportGzipped } from '../../examples/backup.js'
import { importDocuments } from '../../src/backup/import.js'
import { MemoryStore } from '../../src/storage/memory-store.js'
import { createSqliteStore } from '../../src/storage/sqlite.js'
import { exportToString, sampleDocuments } from '../helpers/backup-fixtures.js'

const dir = await mkdtemp(join(tmpdir(), 'synckit-backup-docs-'))
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('docs/operations.md backup example (examples/backup.ts)', () => {
  it('copies every document through a file, twice without a change', async () => {
    const from = new MemoryStore()
    await from.save(sampleDocuments())
    const to = await createSqliteStore({ dataDir: 'memory://' })
    try {
      const file = join(dir, 'copy.jsonl')
      expect(await copyThroughFile(from, to, file)).toMatchObject({ documents: 4, registers: 260 })
      const expected = await exportToString(from)
      expect(await exportToString(to)).toBe(expected)
      await copyThroughFile(from, to, file)
      expect(await exportToString(to)).toBe(expected)
    } finally {
      await to.close()
    }
  })

  it('writes a gzipped export that imports back whole', async () => {
    const store = new MemoryStore()
    await store.save(sampleDocuments())
    const file = join(dir, 'backup.jsonl.gz')
    expect(await exportGzipped(store, file)).toMatchObject({ documents: 4, registers: 260 })
    const restored = new MemoryStore()
    await importDocuments(restored, createReadStream(file).pipe(createGunzip()))
    expect(await exportToString(restored)).toBe(await exportToString(store))
  })
})
