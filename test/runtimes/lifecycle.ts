/**
 * Shared by the spawned fixtures (Bun, and Deno through its `node:process` support): a graceful
 * stop on SIGTERM / SIGINT, and an exit when the parent goes away (stdin closes), so a crashed
 * test run never leaves a server behind.
 */
import process from 'node:process'

const STOP_TIMEOUT_MS = 5_000

export function exitWhenParentGoes(stop: () => Promise<void>): void {
  let stopping = false
  const shutdown = (): void => {
    if (stopping) return
    stopping = true
    const timer = setTimeout(() => {
      console.error(`fixture: graceful stop took over ${STOP_TIMEOUT_MS} ms`)
      process.exit(1)
    }, STOP_TIMEOUT_MS)
    stop().then(
      () => {
        clearTimeout(timer)
        process.exit(0)
      },
      (error: unknown) => {
        console.error('fixture: stop failed', error)
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)
  process.stdin.on('end', shutdown)
  process.stdin.on('close', shutdown)
  process.stdin.resume()
}
