/**
 * Measurements per target and round, and what the report derives from them: medians across rounds
 * and, for each round, the ratio of a server to the relay measured next to it.
 */
import { median } from './stats.js'

/** One measurement window: metric name -> value. */
export type Sample = Record<string, number>

/** Target name -> one sample per round, in round order. */
export type Series = Record<string, Sample[]>

export const RELAY = 'relay'

export function record(series: Series, target: string, sample: Sample): void {
  let rounds = series[target]
  if (!rounds) {
    rounds = []
    series[target] = rounds
  }
  rounds.push(sample)
}

export function medianOf(series: Series, target: string, metric: string): number {
  return median((series[target] ?? []).map((sample) => sample[metric] ?? Number.NaN))
}

/** Median over rounds of (target / relay) for `metric`, each ratio taken within one round. */
export function ratioToRelay(series: Series, target: string, metric: string): number {
  return ratioTo(series, target, RELAY, metric)
}

/** The same build of an earlier commit (`--baseline`), when the run has one. */
export function baselineOf(series: Series, target: string): string | undefined {
  const base = `${target}@base`
  return series[base] ? base : undefined
}

/** Median over rounds of (target / reference) for `metric`, each ratio taken within one round. */
export function ratioTo(series: Series, target: string, reference: string, metric: string): number {
  const relay = series[reference] ?? []
  const mine = series[target] ?? []
  const ratios: number[] = []
  for (let round = 0; round < Math.min(relay.length, mine.length); round++) {
    const base = relay[round]?.[metric]
    const value = mine[round]?.[metric]
    if (base !== undefined && value !== undefined && base > 0) ratios.push(value / base)
  }
  return median(ratios)
}

/** `{target: {metric: median}}` plus `ratioToRelay` per metric, for the JSON file. */
export function summarizeSeries(series: Series): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [target, rounds] of Object.entries(series)) {
    const metrics = Object.keys(rounds[0] ?? {})
    const medians = Object.fromEntries(metrics.map((m) => [m, round3(medianOf(series, target, m))]))
    const ratios =
      target === RELAY || !series[RELAY]
        ? undefined
        : Object.fromEntries(metrics.map((m) => [m, round3(ratioToRelay(series, target, m))]))
    const base = baselineOf(series, target)
    const toBase = base
      ? Object.fromEntries(metrics.map((m) => [m, round3(ratioTo(series, target, base, m))]))
      : undefined
    out[target] = {
      median: medians,
      ...(ratios ? { ratioToRelay: ratios } : {}),
      ...(toBase ? { ratioToBaseline: toBase } : {}),
      rounds: rounds.map((sample) =>
        Object.fromEntries(Object.entries(sample).map(([k, v]) => [k, round3(v)])),
      ),
    }
  }
  return out
}

function round3(value: number): number | null {
  return Number.isFinite(value) ? Math.round(value * 1000) / 1000 : null
}
