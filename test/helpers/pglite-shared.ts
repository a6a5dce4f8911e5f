import type { PGlite } from '@electric-sql/pglite'
import { pgliteDriver } from '../../src/storage/pglite-driver.js'
import { SqlDocumentStore } from '../../src/storage/sql-store.js'

/**
 * One PGlite instance shared by a test file, a fresh schema per store: creating a PGlite database
 * runs initdb, which takes seconds (tens on a loaded machine), so tests must not do it per case.
 * Stores are used one at a time (PGlite has a single session and search_path).
 */
export function sharedPglite(dataDir: string): {
  store(): Promise<{ store: SqlDocumentStore; cleanup(): Promise<void> }>
  close(): Promise<void>
} {
  let db: Promise<PGlite> | undefined
  let n = 0
  const open = (): Promise<PGlite> => {
    db ??= import('@electric-sql/pglite').then(({ PGlite }) => PGlite.create(dataDir))
    return db
  }
  return {
    async store() {
      const instance = await open()
      const schema = `synckit_test_${++n}`
      const store = new SqlDocumentStore(await pgliteDriver(instance, { schema }), { schema })
      await store.migrate()
      return {
        store,
        cleanup: async () => {
          await store.close()
          await instance.query(`drop schema "${schema}" cascade`)
        },
      }
    },
    async close() {
      if (db !== undefined) await (await db).close()
    },
  }
}
