/** Backup, restore and migration: the export format, export/import, the SyncKit import, progress. */
export { canonicalJson } from './canonical-json.js'
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
  countDocuments,
  documentIds,
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
export {
  createProgressReporter,
  formatBytes,
  formatDuration,
  type ProgressReporter,
  type ProgressReporterOptions,
  type ProgressStream,
} from './progress.js'
export {
  countSyncKitDocuments,
  importFromSyncKit,
  SYNCKIT_IMPORT_NODE,
  type SyncKitImportOptions,
  type SyncKitImportSummary,
} from './synckit.js'
