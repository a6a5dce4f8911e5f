import { createReadStream, createWriteStream } from 'node:fs'
import { rename, rm, stat } from 'node:fs/promises'
import type { Writable } from 'node:stream'
import { finished } from 'node:stream/promises'
import type { DocumentStore } from '../server/options.js'
import { countDocuments, type ExportSummary, exportDocuments } from './export.js'
import { type ImportSummary, importDocuments } from './import.js'
import { createProgressReporter, type ProgressStream } from './progress.js'
import { countSyncKitDocuments, importFromSyncKit, type SyncKitImportSummary } from './synckit.js'

/**
 * One function per CLI command: the CLI parses its flags, opens the store from its configuration,
 * calls one of these, and closes the store. Progress goes to `progress` (stderr), data to files or
 * `stdout`, so `synckit-engine export > backup.jsonl` works.
 */

/** Options of `exportCommand`. */
export interface ExportCommandOptions {
  /** The store to read (it needs `list`). */
  store: DocumentStore
  /** File to write; without it the export goes to `stdout`. */
  out?: string
  stdout?: Writable
  progress?: ProgressStream
}

/**
 * `synckit-engine export [--out FILE]`. A file is written as `FILE.partial` and renamed when
 * complete, so `FILE` is never a half-written backup.
 */
export async function exportCommand(options: ExportCommandOptions): Promise<ExportSummary> {
  const { store, progress } = options
  const totalDocuments = progress ? await countDocuments(store) : undefined
  const reporter = progress
    ? createProgressReporter(progress, {
        label: 'export',
        ...(totalDocuments === undefined ? {} : { totalDocuments }),
      })
    : undefined
  const onProgress = reporter ? { onProgress: reporter.update } : {}
  if (options.out === undefined) {
    const stdout = options.stdout ?? process.stdout
    const summary = await exportDocuments(store, stdout, onProgress)
    reporter?.done(summary)
    return summary
  }
  const partial = `${options.out}.partial`
  const file = createWriteStream(partial)
  try {
    const summary = await exportDocuments(store, file, onProgress)
    file.end()
    await finished(file)
    await rename(partial, options.out)
    reporter?.done(summary)
    return summary
  } catch (error) {
    file.destroy()
    await rm(partial, { force: true })
    throw error
  }
}

/** Options of `importCommand`. */
export interface ImportCommandOptions {
  store: DocumentStore
  /** Export file to read; `-` reads `stdin`. */
  file: string
  stdin?: NodeJS.ReadableStream & AsyncIterable<Uint8Array | string>
  progress?: ProgressStream
  dryRun?: boolean
}

/** `synckit-engine import FILE`. */
export async function importCommand(options: ImportCommandOptions): Promise<ImportSummary> {
  const fromStdin = options.file === '-'
  const totalBytes = fromStdin ? undefined : (await stat(options.file)).size
  const reporter = options.progress
    ? createProgressReporter(options.progress, {
        label: 'import',
        ...(totalBytes === undefined ? {} : { totalBytes }),
      })
    : undefined
  const input = fromStdin ? (options.stdin ?? process.stdin) : createReadStream(options.file)
  const summary = await importDocuments(options.store, input, {
    ...(reporter ? { onProgress: reporter.update } : {}),
    ...(options.dryRun ? { dryRun: true } : {}),
  })
  reporter?.done(summary)
  return summary
}

/** Options of `importFromSyncKitCommand`. */
export interface SyncKitImportCommandOptions {
  store: DocumentStore
  /** `postgres://…` of the SyncKit database. */
  url: string
  schema?: string
  progress?: ProgressStream
}

/** `synckit-engine import --from-synckit postgres://…`. */
export async function importFromSyncKitCommand(
  options: SyncKitImportCommandOptions,
): Promise<SyncKitImportSummary> {
  const { progress } = options
  const totalDocuments = progress ? await countSyncKitDocuments(options.url, options.schema) : undefined
  const reporter = progress
    ? createProgressReporter(progress, {
        label: 'import from SyncKit',
        ...(totalDocuments === undefined ? {} : { totalDocuments }),
      })
    : undefined
  const summary = await importFromSyncKit(options.url, options.store, {
    ...(options.schema === undefined ? {} : { schema: options.schema }),
    ...(reporter ? { onProgress: reporter.update } : {}),
  })
  reporter?.done(summary)
  if (progress && summary.skippedTextDocuments.length > 0) {
    progress.write(
      `skipped ${summary.skippedTextDocuments.length} text document(s) (no field form): ${summary.skippedTextDocuments.slice(0, 10).join(', ')}${summary.skippedTextDocuments.length > 10 ? ', …' : ''}\n`,
    )
  }
  return summary
}
