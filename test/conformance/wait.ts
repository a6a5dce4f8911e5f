/** Bounded waiting: every wait in the conformance suite ends, and says what it waited for. */

export const DEFAULT_WAIT_MS = 10_000

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Polls `predicate` until it returns a truthy value (returned), or throws after `timeoutMs` with
 * `describe()` (evaluated at timeout, so it can report the state that was missing something).
 */
export async function waitFor<T>(
  predicate: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs: number = DEFAULT_WAIT_MS,
  describe: () => string = () => 'condition',
): Promise<T> {
  const started = Date.now()
  const deadline = started + timeoutMs
  for (;;) {
    const value = await predicate()
    if (value) return value
    if (Date.now() >= deadline) {
      throw new Error(`Timed out after ${Date.now() - started} ms: ${describe()}`)
    }
    await sleep(10)
  }
}

/** Settles `promise` within `ms`, or throws naming `what`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
