import type { InspectorStats } from '../src/server/inspector/types.js'
import { read } from './api.js'
import { Chart } from './charts.js'

/**
 * The live charts: `/inspector/api/stats` once a second (counters become rates between two
 * readings). One request at a time, aborted when the page goes; polling stops while the tab is
 * hidden and when the server refuses the token.
 */

const PERIOD_MS = 1000

const rate = (value: number) =>
  value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)
const count = (value: number) => String(Math.round(value))

export interface Live {
  start(): void
  stop(): void
}

export function createLive(
  byId: (id: string) => HTMLElement,
  onStats: (stats: InspectorStats) => void,
  onError: (error: unknown) => void,
): Live {
  const charts = {
    messages: new Chart(byId('chart-messages'), {
      title: 'Messages / s',
      series: [
        { name: 'in', color: '#4f46e5' },
        { name: 'out', color: '#0ea5a4' },
      ],
      format: rate,
    }),
    connections: new Chart(byId('chart-connections'), {
      title: 'Connections',
      series: [{ name: 'connections', color: '#2f9e5b' }],
      format: count,
    }),
    documents: new Chart(byId('chart-documents'), {
      title: 'Documents in memory',
      series: [{ name: 'documents', color: '#7c3aed' }],
      format: count,
    }),
    persist: new Chart(byId('chart-persist'), {
      title: 'Persist latency (ms)',
      series: [{ name: 'latency', color: '#c77c02' }],
      format: (ms) => (ms >= 10 ? ms.toFixed(0) : ms.toFixed(2)),
    }),
    queued: new Chart(byId('chart-queued'), {
      title: 'Backpressure queues',
      series: [{ name: 'queued', color: '#d93c3c' }],
      format: (messages) => `${Math.round(messages)} msg`,
    }),
  }
  let previous: InspectorStats | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  let inFlight: AbortController | undefined
  let running = false

  const draw = (stats: InspectorStats) => {
    if (previous) {
      const seconds = Math.max(0.001, (stats.time - previous.time) / 1000)
      const batches = stats.persistCount - previous.persistCount
      const latencyMs = batches > 0 ? ((stats.persistSeconds - previous.persistSeconds) / batches) * 1000 : 0
      charts.messages.push([
        (stats.messagesIn - previous.messagesIn) / seconds,
        (stats.messagesOut - previous.messagesOut) / seconds,
      ])
      charts.persist.push([latencyMs])
    }
    charts.connections.push([stats.connections])
    charts.documents.push([stats.documents])
    charts.queued.push([stats.queuedMessages])
    previous = stats
  }

  const poll = async () => {
    timer = undefined
    if (!running) return
    inFlight = new AbortController()
    try {
      const stats = await read<InspectorStats>('stats', {}, inFlight.signal)
      draw(stats)
      onStats(stats)
    } catch (error) {
      if (!running) return
      onError(error)
    } finally {
      inFlight = undefined
    }
    if (running) timer = setTimeout(poll, PERIOD_MS)
  }

  /** Wanted by the page (signed in); polling also needs the tab to be visible. */
  let wanted = false
  const resume = () => {
    if (running || !wanted || document.hidden) return
    running = true
    void poll()
  }
  const pause = () => {
    running = false
    // A gap in the readings is not a rate: the next reading starts afresh.
    previous = undefined
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    inFlight?.abort()
  }
  document.addEventListener('visibilitychange', () => (document.hidden ? pause() : resume()))
  window.addEventListener('pagehide', pause)
  window.addEventListener('pageshow', resume)
  return {
    start() {
      wanted = true
      resume()
    },
    stop() {
      wanted = false
      pause()
    },
  }
}
