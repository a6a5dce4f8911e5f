/**
 * The backup library: docs/operations.md shows this file, and test/integration/backup-docs.test.ts
 * runs it. The CLI's `export` and `import` commands do the same with the configured store.
 */
import { createWriteStream } from 'node:fs'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
// In an application: `from 'synckit-engine/backup'` and `from 'synckit-engine'`.
import { type ExportSummary, exportCommand, exportDocuments, importCommand } from '../src/backup/index.js'
import type { DocumentStore } from '../src/storage/store.js'

/** Every document of one store into another, through a backup file. */
export async function copyThroughFile(from: DocumentStore, to: DocumentStore, file: string) {
  await exportCommand({ store: from, out: file }) // written as file.partial, renamed when whole
  return importCommand({ store: to, file }) // idempotent: a second run changes nothing
}

/** Any writable stream: here gzip. `exportDocuments` waits for it to drain, and does not end it. */
export async function exportGzipped(store: DocumentStore, file: string): Promise<ExportSummary> {
  const gzip = createGzip()
  const written = pipeline(gzip, createWriteStream(file))
  const summary = await exportDocuments(store, gzip)
  gzip.end()
  await written
  return summary
}
