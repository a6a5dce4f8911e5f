import type { DocumentSnapshot } from '../crdt/types.js'
import type { DocumentStore } from '../server/options.js'
import type { BackupProgress } from './export.js'
import { BackupFormatError, EXPORT_VERSION, type ExportLine, parseExportLine } from './format.js'
import { readLines } from './lines.js'

/** Options of `importDocuments`. */
export interface ImportOptions {
  /** Registers per `store.save` call at most (a batch also closes at `batchDocuments`). Default 5000. */
  batchRegisters?: number
  /** Documents (or document parts) per `store.save` call at most. Default 100. */
  batchDocuments?: number
  /** Longest accepted line. Default 64 MiB. */
  maxLineBytes?: number
  /** Validate the whole input without writing anything. Default false. */
  dryRun?: boolean
  /** Called after every document. */
  onProgress?: (progress: BackupProgress) => void
}

/** What an import read and wrote. */
export interface ImportSummary extends BackupProgress {
  /** `store.save` calls made (0 for a dry run). */
  batches: number
}

/**
 * Restores an export (see `format.ts`) into `store` through `store.save`, in bounded batches: at
 * most one line and one batch in memory. Idempotent: `save` merges by last-writer-wins and
 * max-merges clocks, so importing the same file again, or an older one, changes nothing.
 *
 * Every line is validated; the first invalid one stops the import with a `BackupFormatError`
 * naming it, after saving every valid line before it (re-running the import after a fix is safe). A document
 * split over several lines gets its clock with its last line, so a clock never claims registers
 * that are not stored yet.
 */
export async function importDocuments(
  store: DocumentStore,
  input: AsyncIterable<Uint8Array | string>,
  options: ImportOptions = {},
): Promise<ImportSummary> {
  const batchRegisters = Math.max(1, options.batchRegisters ?? 5000)
  const batchDocuments = Math.max(1, options.batchDocuments ?? 100)
  const progress: ImportSummary = { documents: 0, registers: 0, bytes: 0, batches: 0 }
  let batch: DocumentSnapshot[] = []
  let batchSize = 0
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return
    const documents = batch
    batch = []
    batchSize = 0
    if (options.dryRun) return
    await store.save(documents)
    progress.batches++
  }

  const state: ReadState = { sawHeader: false, open: undefined, end: undefined }
  try {
    for await (const line of readLines(input, options.maxLineBytes ?? 64 * 1024 * 1024)) {
      progress.bytes = line.bytesRead
      const parsed = checkLine(line.text, line.number, state)
      if (parsed === undefined) continue
      batch.push({ documentId: parsed.documentId, registers: parsed.registers, clock: parsed.clock ?? {} })
      batchSize += parsed.registers.length
      progress.registers += parsed.registers.length
      if (!parsed.more) progress.documents++
      if (batch.length >= batchDocuments || batchSize >= batchRegisters) await flush()
      if (!parsed.more)
        options.onProgress?.({
          documents: progress.documents,
          registers: progress.registers,
          bytes: progress.bytes,
        })
    }
  } catch (error) {
    // Every line before the bad one was valid: keep the batch they are in, as earlier batches are.
    if (error instanceof BackupFormatError) await flush()
    throw error
  }
  const { sawHeader, end } = state
  if (!sawHeader) throw new BackupFormatError(0, 'empty input: no header line')
  // Every line so far was valid: keep it, as for an error in the middle of the file.
  await flush()
  if (!end) throw new BackupFormatError(0, 'the input ends without its end line (truncated?)')
  if (end.documents !== progress.documents || end.registers !== progress.registers) {
    throw new BackupFormatError(
      end.line,
      `the end line counts ${end.documents} documents and ${end.registers} registers, the file holds ${progress.documents} and ${progress.registers}`,
    )
  }
  return progress
}

/** Where the reader is in the file: what the next line may be. */
interface ReadState {
  sawHeader: boolean
  /** A document whose last line has not come yet. */
  open: string | undefined
  end: { documents: number; registers: number; line: number } | undefined
}

/**
 * Parses a line and checks it against what came before; a document line is returned, the header
 * and end lines update `state`. Throws `BackupFormatError`.
 */
function checkLine(
  text: string,
  number: number,
  state: ReadState,
): Extract<ExportLine, { kind: 'document' }> | undefined {
  if (state.end) throw new BackupFormatError(number, 'content after the end line')
  const parsed = parseExportLine(text, number)
  if (!state.sawHeader) {
    if (parsed.kind !== 'header') throw new BackupFormatError(number, 'the first line must be the header')
    if (parsed.version !== EXPORT_VERSION) {
      throw new BackupFormatError(
        number,
        `export format version ${parsed.version} is not supported (this version reads ${EXPORT_VERSION})`,
      )
    }
    state.sawHeader = true
    return undefined
  }
  if (parsed.kind === 'header') throw new BackupFormatError(number, 'a second header')
  if (parsed.kind === 'end') {
    if (state.open !== undefined) {
      throw new BackupFormatError(
        number,
        `end line while document ${JSON.stringify(state.open)} is unfinished`,
      )
    }
    state.end = { documents: parsed.documents, registers: parsed.registers, line: number }
    return undefined
  }
  if (state.open !== undefined && parsed.documentId !== state.open) {
    throw new BackupFormatError(
      number,
      `document ${JSON.stringify(parsed.documentId)} starts before ${JSON.stringify(state.open)} ends`,
    )
  }
  state.open = parsed.more ? parsed.documentId : undefined
  return parsed
}
