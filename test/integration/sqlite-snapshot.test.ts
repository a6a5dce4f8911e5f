import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { StoreError } from '../../src/storage/errors.js'
import { FORMAT_FILE } from '../../src/storage/layout.js'
import { createSqliteStore } from '../../src/storage/sqlite.js'
import { openSqliteSnapshot } from '../../src/storage/sqlite-snapshot.js'
import { register } from '../../src/testing/store-fixtures.js'
import { exportToString } from '../helpers/backup-fixtures.js'

const root = await mkdtemp(join(tmpdir(), 'synckit-snapshot-'))
afterAll(() => rm(root, { recursive: true, force: true }))
let n = 0
const newDir = () => join(root, `case-${++n}`)

describe('openSqliteSnapshot (what `synckit-engine export` reads an embedded directory with)', () => {
  it('sees the directory as it was when opened, while the locked store keeps committing', async () => {
    const dataDir = newDir()
    const store = await createSqliteStore({ dataDir })
    try {
      await store.save([
        { documentId: 'a', registers: [register('title', 'old', { ms: 1 })], clock: { 'node-a': 1 } },
        { documentId: 'b', registers: [register('x', 1, { ms: 2 })], clock: { 'node-a': 2 } },
      ])
      const before = await exportToString(store)
      // The store holds the directory's lock; the snapshot takes none.
      const snapshot = await openSqliteSnapshot(dataDir)
      try {
        await store.save([
          { documentId: 'a', registers: [register('title', 'new', { ms: 3 })], clock: { 'node-a': 3 } },
          { documentId: 'c', registers: [register('y', 2, { ms: 4 })], clock: { 'node-a': 4 } },
        ])
        expect(await store.delete('b')).toBe(true)
        expect(await store.list()).toEqual(['a', 'c'])

        expect(await snapshot.list()).toEqual(['a', 'b'])
        expect((await snapshot.load('a'))?.registers[0]?.value).toBe('old')
        expect(await exportToString(snapshot)).toBe(before)
        const write = snapshot.save([{ documentId: 'z', registers: [], clock: { 'node-a': 9 } }])
        await expect(write).rejects.toBeInstanceOf(StoreError)
        await expect(write).rejects.toThrow(/readonly/)
      } finally {
        await snapshot.close()
      }
      // A new snapshot sees the new state; the store was never disturbed.
      const later = await openSqliteSnapshot(dataDir)
      expect(await later.list()).toEqual(['a', 'c'])
      await later.close()
      await store.save([{ documentId: 'd', registers: [register('z', 1, { ms: 5 })], clock: {} }])
      expect(await store.list()).toEqual(['a', 'c', 'd'])
    } finally {
      await store.close()
    }
  })

  it('refuses a directory without a SQLite store, and creates nothing', async () => {
    const missing = newDir()
    await expect(openSqliteSnapshot(missing)).rejects.toThrow(/holds no store/)
    expect(existsSync(missing)).toBe(false)

    const foreign = newDir()
    await mkdir(foreign)
    await writeFile(join(foreign, 'notes.txt'), 'mine')
    await expect(openSqliteSnapshot(foreign)).rejects.toThrow(/holds no synckit store/)

    const pglite = newDir()
    await mkdir(pglite)
    await writeFile(join(pglite, FORMAT_FILE), '{"format":"synckit-data","version":1,"store":"pglite"}')
    await expect(openSqliteSnapshot(pglite)).rejects.toThrow(/holds a PGlite store, not SQLite/)
    expect(existsSync(join(pglite, 'synckit.sqlite'))).toBe(false)
  })
})
