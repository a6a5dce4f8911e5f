/**
 * Budgets and seeds of the fuzz suite. `CI` set: the full volume, >= 100,000 generated frames in
 * total (decoder.test.ts >= 63,000, engine.test.ts >= 27,000, memory.test.ts 10,000; the first two
 * assert their share); unset: about a fifth of it, for local runs.
 *
 * Every property runs with a fixed seed derived from its name, so a failure in CI is reproducible
 * locally (fast-check prints the seed and the counterexample path). `FUZZ_SEED=<int>` shifts every
 * seed, for exploratory runs beyond the fixed corpus.
 */
export const CI = Boolean(process.env.CI)

/** `ciValue` in CI, `localValue` otherwise. */
export const budget = (ciValue: number, localValue: number): number => (CI ? ciValue : localValue)

const seedShift = Number.parseInt(process.env.FUZZ_SEED ?? '0', 10) || 0

/** A stable 31-bit seed per property name (FNV-1a), shifted by FUZZ_SEED. */
export function seedFor(name: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return ((hash >>> 1) + seedShift) | 0
}

/**
 * Invariants to report as counts instead of failures (comma-separated ids, e.g.
 * `FUZZ_TOLERATE=nonfinite-number,server-frame-too-deep`). Only for investigating a second bug
 * while a first one is still open; CI runs with every invariant enforced.
 */
export const TOLERATED: ReadonlySet<string> = new Set(
  (process.env.FUZZ_TOLERATE ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0),
)

/** Generous per-test timeout: the CI volume on a loaded 2-core machine, plus shrinking. */
export const FUZZ_TIMEOUT_MS = 240_000
