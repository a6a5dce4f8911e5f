import type { BackupProgress } from './export.js'

/** Where progress is drawn: `process.stderr` fits. */
export interface ProgressStream {
  /** Draws text (a line, or `\r` and a redrawn bar). */
  write(text: string): unknown
  /** A terminal gets a bar redrawn in place; anything else gets plain lines. */
  isTTY?: boolean
  columns?: number
}

export interface ProgressReporterOptions {
  /** e.g. `export`, `import`. */
  label: string
  /** Known totals give a percentage and an ETA (bytes are preferred when both are known). */
  totalDocuments?: number
  totalBytes?: number
  /** Minimum time between two redraws on a terminal (ms). Default 100. */
  ttyIntervalMs?: number
  /** Minimum time between two plain lines (ms). Default 5000. */
  lineIntervalMs?: number
  now?: () => number
}

export interface ProgressReporter {
  update(progress: BackupProgress): void
  /** Draws the final state and ends the line. */
  done(progress: BackupProgress): void
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`
}

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000))
  const h = Math.floor(seconds / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  const mm = String(m).padStart(2, '0')
  const ss = String(s).padStart(2, '0')
  return h > 0 ? `${h}:${mm}:${ss}` : `${m}:${ss}`
}

/** Fraction done in [0, 1], from bytes when their total is known, else documents. */
function fractionDone(progress: BackupProgress, options: ProgressReporterOptions): number | undefined {
  if (options.totalBytes !== undefined && options.totalBytes > 0)
    return Math.min(1, progress.bytes / options.totalBytes)
  if (options.totalDocuments !== undefined && options.totalDocuments > 0) {
    return Math.min(1, progress.documents / options.totalDocuments)
  }
  return undefined
}

/**
 * Progress of a long export or import: on a terminal a bar redrawn in place
 * (`import [#####-----] 48% 480/1000 documents, 12.0 MiB, ETA 0:12`), elsewhere (logs, CI) a plain
 * line every few seconds. The ETA assumes the rest goes at the average rate so far.
 */
export function createProgressReporter(
  stream: ProgressStream,
  options: ProgressReporterOptions,
): ProgressReporter {
  const now = options.now ?? Date.now
  const started = now()
  const tty = stream.isTTY === true
  const interval = tty ? (options.ttyIntervalMs ?? 100) : (options.lineIntervalMs ?? 5000)
  let last = Number.NEGATIVE_INFINITY

  const describe = (progress: BackupProgress, final: boolean): string => {
    const fraction = final ? 1 : fractionDone(progress, options)
    const documents =
      options.totalDocuments === undefined
        ? `${progress.documents} documents`
        : `${progress.documents}/${options.totalDocuments} documents`
    const parts = [documents, `${progress.registers} registers`, formatBytes(progress.bytes)]
    const elapsed = now() - started
    if (final) parts.push(`in ${formatDuration(elapsed)}`)
    else if (fraction !== undefined && fraction > 0 && elapsed > 0)
      parts.push(`ETA ${formatDuration((elapsed * (1 - fraction)) / fraction)}`)
    const percent = fraction === undefined ? '' : `${Math.floor(fraction * 100)}% `
    if (!tty || fraction === undefined) return `${options.label}: ${percent}${parts.join(', ')}`
    const width = 20
    const filled = Math.round(fraction * width)
    const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`
    return `${options.label} ${bar} ${percent}${parts.join(', ')}`
  }

  const draw = (text: string, final: boolean): void => {
    if (tty) {
      // 0 means unknown (a pseudo-terminal without a size, as under `script` or `docker exec -t`).
      const width = stream.columns || 120
      // \r + erase line: the bar is redrawn in place; cut to the terminal so it never wraps.
      stream.write(`\r\x1b[2K${text.slice(0, Math.max(10, width - 1))}${final ? '\n' : ''}`)
    } else {
      stream.write(`${text}\n`)
    }
  }

  return {
    update(progress) {
      const t = now()
      if (t - last < interval) return
      last = t
      draw(describe(progress, false), false)
    },
    done(progress) {
      draw(describe(progress, true), true)
    },
  }
}
