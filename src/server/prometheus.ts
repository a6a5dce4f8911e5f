/**
 * A tiny Prometheus registry (text exposition format 0.0.4), no dependency: the metric kinds and
 * their rendering. Which metrics the server exports is `server-metrics.ts`. Counters take at most
 * one label, and label values are capped per metric so a peer can never grow the registry.
 */

const MAX_LABEL_VALUES = 64
const OVERFLOW_LABEL = 'other'

interface Metric {
  render(lines: string[]): void
}

function header(lines: string[], name: string, help: string, type: string): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Number.POSITIVE_INFINITY) return '+Inf'
  if (value === Number.NEGATIVE_INFINITY) return '-Inf'
  return String(value)
}

export class Counter implements Metric {
  readonly #values = new Map<string, number>()
  #total = 0

  constructor(
    readonly name: string,
    readonly help: string,
    readonly label?: string,
  ) {}

  inc(amount = 1, labelValue?: string): void {
    this.#total += amount
    if (this.label === undefined) return
    let key = labelValue ?? ''
    if (!this.#values.has(key) && this.#values.size >= MAX_LABEL_VALUES) key = OVERFLOW_LABEL
    this.#values.set(key, (this.#values.get(key) ?? 0) + amount)
  }

  get total(): number {
    return this.#total
  }

  value(labelValue: string): number {
    return this.#values.get(labelValue) ?? 0
  }

  render(lines: string[]): void {
    header(lines, this.name, this.help, 'counter')
    if (this.label === undefined) {
      lines.push(`${this.name} ${formatNumber(this.#total)}`)
      return
    }
    for (const [value, count] of this.#values) {
      lines.push(`${this.name}{${this.label}="${escapeLabel(value)}"} ${formatNumber(count)}`)
    }
  }
}

/**
 * A counter whose values another component keeps (e.g. the engine's inbound counters), read at
 * scrape time. Same label-value cap as `Counter`.
 */
export class CollectedCounter implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly read: () => number | Readonly<Record<string, number>>,
    readonly label?: string,
  ) {}

  render(lines: string[]): void {
    header(lines, this.name, this.help, 'counter')
    const value = this.read()
    if (typeof value === 'number' || this.label === undefined) {
      const total = typeof value === 'number' ? value : Object.values(value).reduce((a, b) => a + b, 0)
      lines.push(`${this.name} ${formatNumber(total)}`)
      return
    }
    let overflow = 0
    let count = 0
    for (const [labelValue, n] of Object.entries(value)) {
      if (count++ < MAX_LABEL_VALUES) {
        lines.push(`${this.name}{${this.label}="${escapeLabel(labelValue)}"} ${formatNumber(n)}`)
      } else overflow += n
    }
    if (overflow > 0) lines.push(`${this.name}{${this.label}="${OVERFLOW_LABEL}"} ${formatNumber(overflow)}`)
  }
}

/** A gauge read at scrape time, so it can never drift from the state it reports. */
export class Gauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly read: () => number,
  ) {}

  render(lines: string[]): void {
    header(lines, this.name, this.help, 'gauge')
    lines.push(`${this.name} ${formatNumber(this.read())}`)
  }
}

export class Histogram implements Metric {
  readonly #bounds: readonly number[]
  readonly #counts: number[]
  #sum = 0
  #count = 0

  constructor(
    readonly name: string,
    readonly help: string,
    buckets: readonly number[],
  ) {
    this.#bounds = [...buckets].sort((a, b) => a - b)
    this.#counts = this.#bounds.map(() => 0)
  }

  observe(value: number): void {
    this.#sum += value
    this.#count++
    for (let i = 0; i < this.#bounds.length; i++) {
      if (value <= (this.#bounds[i] as number)) this.#counts[i] = (this.#counts[i] as number) + 1
    }
  }

  get count(): number {
    return this.#count
  }

  /** The sum of every observed value. */
  get sum(): number {
    return this.#sum
  }

  render(lines: string[]): void {
    header(lines, this.name, this.help, 'histogram')
    this.#bounds.forEach((bound, i) => {
      lines.push(`${this.name}_bucket{le="${formatNumber(bound)}"} ${this.#counts[i]}`)
    })
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.#count}`)
    lines.push(`${this.name}_sum ${formatNumber(this.#sum)}`, `${this.name}_count ${this.#count}`)
  }
}

/**
 * Exposition text rendered elsewhere (an add-on's own registry, see `SyncServer.addMetrics`),
 * appended as is. A failing renderer costs its own lines only: a comment takes their place.
 */
export class TextMetrics implements Metric {
  constructor(readonly read: () => string) {}

  render(lines: string[]): void {
    let text: string
    try {
      text = this.read().trimEnd()
    } catch (error) {
      text = `# add-on metrics failed: ${String(error instanceof Error ? error.message : error).replace(/\n/g, ' ')}`
    }
    if (text !== '') lines.push(text)
  }
}

export class MetricsRegistry {
  readonly #metrics: Metric[] = []

  register<M extends Metric>(metric: M): M {
    this.#metrics.push(metric)
    return metric
  }

  /** Prometheus text exposition format, version 0.0.4. */
  render(): string {
    const lines: string[] = []
    for (const metric of this.#metrics) metric.render(lines)
    return `${lines.join('\n')}\n`
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
