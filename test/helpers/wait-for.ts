export interface WaitOptions {
  timeoutMs?: number
  intervalMs?: number
  /** Describes what was awaited, for the timeout error. */
  message?: string
}

/** Poll `predicate` until it returns a truthy value (returned), or fail after `timeoutMs`. */
export async function waitFor<T>(
  predicate: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  { timeoutMs = 5000, intervalMs = 10, message = 'condition' }: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await predicate()
    if (value) return value
    if (Date.now() >= deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${message}`)
    await sleep(intervalMs)
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Settle `promise` within `ms` or fail: keeps every await in a test bounded. */
export function within<T>(promise: Promise<T>, ms: number, what = 'promise'): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
