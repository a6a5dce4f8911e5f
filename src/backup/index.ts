/**
 * `synckit-engine/backup` (Node): export every document of a store as JSON lines, import such a
 * file into any store (idempotent under last-writer-wins), and import a SyncKit TypeScript
 * server's Postgres database. The CLI's `export` and `import` commands run the `*Command`
 * functions. See docs/operations.md, "Backup, restore and migration".
 *
 *   await exportDocuments(store, createWriteStream('backup.jsonl'))
 *   await importDocuments(otherStore, createReadStream('backup.jsonl'))
 *
 * @packageDocumentation
 */
export {
  type ExportCommandOptions,
  exportCommand,
  type ImportCommandOptions,
  importCommand,
  importFromSyncKitCommand,
  type SyncKitImportCommandOptions,
} from './commands.js'
export {
  type BackupProgress,
  type ExportOptions,
  type ExportSummary,
  exportDocuments,
  exportLines,
} from './export.js'
export {
  BackupFormatError,
  EXPORT_FORMAT,
  EXPORT_VERSION,
  type ExportLine,
  parseExportLine,
} from './format.js'
export { type ImportOptions, type ImportSummary, importDocuments } from './import.js'
export type { ProgressStream } from './progress.js'
export {
  importFromSyncKit,
  SYNCKIT_IMPORT_NODE,
  type SyncKitImportOptions,
  type SyncKitImportSummary,
} from './synckit.js'
