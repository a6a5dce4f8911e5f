import { once } from 'node:events'
import type { Writable } from 'node:stream'
import type { Register } from '../crdt/types.js'
import { utf8Length } from '../protocol/utf8.js'
import type { DocumentStore } from '../server/options.js'
import { canonicalJson } from './canonical-json.js'
import { documentLine, endLine, headerLine } from './format.js'

/** How far an export or import is (progress callbacks, summaries). */
export interface BackupProgress {
  documents: number
  registers: number
  /** Bytes written (export) or read (import). */
  bytes: number
}

/** Options of `exportDocuments` and `exportLines`. */
export interface ExportOptions {
  /** Ids fetched per `store.list` call. Default 1000. */
  pageSize?: number
  /** A document with more registers is split over several lines. Default 1000. */
  maxRegistersPerLine?: number
  /** A line stops growing past this many bytes (a single larger register still gets its line). Default 1 MiB. */
  maxLineBytes?: number
  /** Called after every document. */
  onProgress?: (progress: BackupProgress) => void
}

/** What an export wrote. */
export interface ExportSummary extends BackupProgress {}

/** Stores that can be exported: `list` is optional in `DocumentStore`, export needs it. */
type ListableStore = DocumentStore & Required<Pick<DocumentStore, 'list'>>

function listable(store: DocumentStore): ListableStore {
  if (typeof store.list !== 'function') {
    throw new TypeError('export needs a store that can list its documents (DocumentStore.list)')
  }
  return store as ListableStore
}

/** Every document id, a page at a time (keyset pagination, so memory stays one page). */
export async function* documentIds(store: DocumentStore, pageSize = 1000): AsyncGenerator<string> {
  const source = listable(store)
  let after: string | undefined
  for (;;) {
    const page = await source.list(after === undefined ? { limit: pageSize } : { after, limit: pageSize })
    for (const id of page) yield id
    if (page.length === 0) return
    after = page[page.length - 1]
  }
}

/** Counts documents without loading them (for the progress bar's ETA). */
export async function countDocuments(store: DocumentStore, pageSize = 10_000): Promise<number> {
  let count = 0
  for await (const _ of documentIds(store, pageSize)) count++
  return count
}

const byField = (a: Register, b: Register): number => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0)

/**
 * The export as lines (each ends with `\n`): one document in memory at a time, whatever the store
 * holds. Documents that disappear between `list` and `load` are skipped.
 */
export async function* exportLines(
  store: DocumentStore,
  options: ExportOptions = {},
): AsyncGenerator<string, ExportSummary> {
  const maxRegisters = Math.max(1, options.maxRegistersPerLine ?? 1000)
  const maxBytes = Math.max(1, options.maxLineBytes ?? 1024 * 1024)
  const progress: BackupProgress = { documents: 0, registers: 0, bytes: 0 }
  const emit = (line: string): string => {
    progress.bytes += utf8Length(line)
    return line
  }
  yield emit(headerLine())
  for await (const documentId of documentIds(store, options.pageSize ?? 1000)) {
    const snapshot = await store.load(documentId)
    if (snapshot === undefined) continue
    const registers = [...snapshot.registers].sort(byField)
    // Each register is serialized once; only the current line's texts are held.
    let chunk: string[] = []
    let lineBytes = 0
    for (const register of registers) {
      const text = canonicalJson(register)
      const bytes = utf8Length(text)
      if (chunk.length > 0 && (chunk.length >= maxRegisters || lineBytes + bytes > maxBytes)) {
        yield emit(documentLine(documentId, chunk, undefined))
        chunk = []
        lineBytes = 0
      }
      chunk.push(text)
      lineBytes += bytes + 1
    }
    yield emit(documentLine(documentId, chunk, { clock: snapshot.clock }))
    progress.documents++
    progress.registers += registers.length
    options.onProgress?.({ ...progress })
  }
  yield emit(endLine(progress.documents, progress.registers))
  return { ...progress }
}

/**
 * Writes every document of `store` to `output` in the export format (see `format.ts`), streaming:
 * it waits for `drain` when the output is full, so memory stays one document and one line.
 * Does not end `output` (it may be stdout).
 */
export async function exportDocuments(
  store: DocumentStore,
  output: Writable,
  options: ExportOptions = {},
): Promise<ExportSummary> {
  const lines = exportLines(store, options)
  let failure: Error | undefined
  const onError = (error: Error): void => {
    failure ??= error
  }
  output.on('error', onError)
  try {
    for (;;) {
      const next = await lines.next()
      if (failure) throw failure
      if (next.done) return next.value
      if (!output.write(next.value)) await once(output, 'drain')
    }
  } finally {
    output.off('error', onError)
  }
}
