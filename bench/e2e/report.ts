/** The printed report of a run: plain-text tables that explain themselves, and the targets. */
import type { ConnectionsResult, DurableResult, HotResult, IdleResult, ManyResult } from './scenarios.js'
import { fmt, mb } from './scenarios.js'
import { baselineOf, medianOf, RELAY, ratioTo, ratioToRelay, type Series } from './series.js'

export interface Results {
  meta: Record<string, unknown>
  hotDocument?: HotResult
  manyDocuments?: ManyResult
  durableWrites?: DurableResult
  idleMemory?: IdleResult
  connections?: ConnectionsResult
}

/** Issue 16's targets, as ratios to the relay in the same run. */
export const TARGETS = { p99At1000: 1.5, closedLoopThroughput: 0.9 } as const

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}

const ratio = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}x` : '-')
const int = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-')
const kb = (bytes: number | undefined) =>
  bytes === undefined || !Number.isFinite(bytes) ? '-' : `${(bytes / 1024).toFixed(1)} KB`

function latencyRows(series: Series, label: string, withBase: boolean): string[][] {
  return Object.keys(series).map((target, i) => {
    const m = (metric: string) => medianOf(series, target, metric)
    const toRelay = (metric: string) => (target === RELAY ? '1' : ratio(ratioToRelay(series, target, metric)))
    const row = [
      i === 0 ? label : '',
      target,
      fmt(m('p50')),
      fmt(m('p99')),
      fmt(m('p999')),
      fmt(m('p99Slices')),
      toRelay('p50'),
      toRelay('p99'),
      toRelay('p99Slices'),
      fmt(m('serverCpuUsPerWrite'), 0),
      fmt(m('delivered'), 3),
    ]
    if (withBase)
      row.push(versusBaseline(series, target, 'p99'), versusBaseline(series, target, 'serverCpuUsPerWrite'))
    return row
  })
}

/** After / before, per round, when the run has a `--baseline` build of this target. */
function versusBaseline(series: Series, target: string, metric: string): string {
  const base = baselineOf(series, target)
  return base ? ratio(ratioTo(series, target, base, metric)) : ''
}

function latencyHeaders(withBase: boolean): string[] {
  const headers = ['', 'target', 'p50 ms', 'p99 ms', 'p99.9 ms', 'p99 slices', 'p50 /relay', 'p99 /relay']
  headers.push('p99 slices /relay', 'CPU us/write', 'delivered')
  return withBase ? [...headers, 'p99 /base', 'CPU /base'] : headers
}

function closedRows(series: Series, withBase: boolean): string[][] {
  return Object.keys(series).map((target) => {
    const m = (metric: string) => medianOf(series, target, metric)
    const row = [
      target,
      int(m('writesPerSecond')),
      target === RELAY ? '1' : ratio(ratioToRelay(series, target, 'writesPerSecond')),
      fmt(m('ackP50')),
      fmt(m('ackP99')),
      fmt(m('serverCpuUsPerWrite'), 0),
      int(m('errors')),
    ]
    if (withBase) {
      row.push(
        versusBaseline(series, target, 'writesPerSecond'),
        versusBaseline(series, target, 'serverCpuUsPerWrite'),
      )
    }
    return row
  })
}

function closedHeaders(withBase: boolean): string[] {
  const headers = [
    'target',
    'acked writes/s',
    'x relay',
    'ack p50 ms',
    'ack p99 ms',
    'CPU us/write',
    'errors',
  ]
  return withBase ? [...headers, 'writes /base', 'CPU /base'] : headers
}

export function renderReport(results: Results): string {
  const out: string[] = []
  const meta = results.meta
  const withBase = meta.baseline !== undefined
  out.push(
    `synckit-engine e2e benchmark  ${String(meta.date)}  commit ${String(meta.commit)}`,
    `machine: ${String(meta.cpus)}, ${String(meta.memory)}, Node ${String(meta.node)}; load average ${String(meta.loadBefore)} before, ${String(meta.loadAfter)} after; ${String(meta.durationSeconds)} s`,
    '',
    ...(meta.mode === 'connections'
      ? [
          `Target: one server process, \`npm start -- --storage ${String(meta.store)}\` (src/cli.ts), WS_HEARTBEAT_INTERVAL=${String(meta.heartbeatIntervalMs)} ms`,
          '(the default is 30 s: here a full heartbeat sweep of every connection falls inside the ping window).',
        ]
      : [
          'Targets, each its own process on 127.0.0.1, driven by separate load processes (raw SDK-shaped binary frames):',
          '  relay     a plain `ws` relay: every frame to every socket of its room, no protocol (the floor)',
          '  memory    `npm start -- --storage memory` (src/cli.ts)',
          '  embedded  `npm start` as shipped: its default embedded store, durable acks',
          '  postgres  `npm start -- --storage postgres://…` (own schema, dropped afterwards)',
          ...(meta.baseline
            ? [
                `  X@base    the same, built from commit ${String(meta.baseline)} ("/base" columns: this checkout / that, per round)`,
              ]
            : []),
          `Figures are medians of ${String(meta.rounds)} rounds. "/relay" is the median of per-round ratios (target / relay,`,
          'measured in the same round, interleaved in short slices): compare those, not absolute figures.',
          'Latency is from the moment a write was due (open loop, no coordinated omission) to its echo, at every',
          'connection of the document. "p99 slices" is the median of each slice\'s own p99: a stall caused by another',
          'process hits one slice, not the median, so on a shared machine it is the steadier figure; on a quiet one',
          'the two agree. "CPU us/write" is the target process\'s CPU time per write (from /proc), the least noisy.',
        ]),
  )
  const hot = results.hotDocument
  if (hot) {
    out.push('', `Hot document, open loop: ${hot.setup}`)
    const rows = Object.entries(hot.openLoop).flatMap(([rate, series]) =>
      latencyRows(series, `${rate}/s`, withBase),
    )
    out.push(table(latencyHeaders(withBase), rows))
    out.push('', "Hot document, closed loop (acked writes/s; relay: a writer's own echo counts as its ack)")
    out.push(table(closedHeaders(withBase), closedRows(hot.closedLoop, withBase)))
  }
  const many = results.manyDocuments
  if (many) {
    out.push('', `Many documents, open loop: ${many.setup}`)
    out.push(table(latencyHeaders(withBase), latencyRows(many.openLoop, 'all', withBase)))
  }
  const durable = results.durableWrites
  if (durable) {
    out.push('', `Durable acked writes per store: ${durable.setup}`)
    out.push(table(closedHeaders(withBase), closedRows(durable.closedLoop, withBase)))
  }
  const idle = results.idleMemory
  if (idle) {
    out.push('', `Idle memory: ${idle.setup}`)
    const steps = [...new Set(Object.values(idle.bytesPerConnection).flatMap((s) => Object.keys(s)))]
    out.push(
      table(
        ['target', 'RSS before', ...steps.map((s) => `per conn @${Number(s).toLocaleString('en-US')}`)],
        Object.entries(idle.bytesPerConnection).map(([target, perStep]) => [
          target,
          mb(idle.rss[target]?.before ?? Number.NaN),
          ...steps.map((s) => kb(perStep[s])),
        ]),
      ),
    )
  }
  const limit = results.connections
  if (limit) {
    out.push(
      '',
      `Connections at the limit: ${limit.setup}`,
      `  opened ${int(limit.opened)} of ${int(limit.connections)} in ${limit.connectSeconds.toFixed(1)} s; dropped by the server: ${limit.dropped}`,
      `  RSS ${mb(limit.rssBefore)} -> ${mb(limit.rssAfter)}: ${kb(limit.bytesPerConnection)} per connection (target <= 10 KB)`,
      `  ping -> pong: p50 ${fmt(limit.ping.p50)}  p99 ${fmt(limit.ping.p99)}  p99.9 ${fmt(limit.ping.p999)}  max ${fmt(limit.ping.max)} ms over ${int(limit.ping.samples)} pings, ${limit.ping.missing} unanswered (target p99 < 100 ms)`,
      `  server CPU during the ping window: ${fmt(limit.serverCpuPercentDuringPings, 0)} %; longest stall of a load process meanwhile: ${fmt(limit.loadLoopDelayMaxMs, 0)} ms (latency the clients added themselves; its longest GC pause ${fmt(limit.loadGcMaxMs, 0)} ms)`,
    )
  }
  const verdicts = targetVerdicts(results)
  if (verdicts.length > 0) out.push('', 'Issue 16 targets (ratios to the relay in this run):', ...verdicts)
  return out.join('\n')
}

export function targetVerdicts(results: Results): string[] {
  const lines: string[] = []
  const hot = results.hotDocument
  if (!hot) return lines
  const at1000 = hot.openLoop['1000']
  for (const target of Object.keys(hot.closedLoop)) {
    if (target === RELAY) continue
    const parts: string[] = []
    if (at1000?.[target]) {
      const r = ratioToRelay(at1000, target, 'p99')
      const slices = ratioToRelay(at1000, target, 'p99Slices')
      parts.push(
        `p99 at 1,000 writes/s ${ratio(r)} (<= ${TARGETS.p99At1000}x: ${r <= TARGETS.p99At1000 ? 'met' : 'NOT met'}; median of slices ${ratio(slices)})`,
      )
    }
    const t = ratioToRelay(hot.closedLoop, target, 'writesPerSecond')
    parts.push(
      `closed-loop throughput ${ratio(t)} (>= ${TARGETS.closedLoopThroughput}x: ${t >= TARGETS.closedLoopThroughput ? 'met' : 'NOT met'})`,
    )
    lines.push(`  ${target.padEnd(9)} ${parts.join('; ')}`)
  }
  return lines
}
