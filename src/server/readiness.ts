import type { Broker } from '../cluster/broker.js'
import type { DocumentStore } from '../storage/store.js'
import type { Readiness } from './http.js'

const READINESS_TIMEOUT_MS = 2_000

/**
 * `/health/ready`: the store must answer; without the broker this node still serves its own
 * clients, so a failing broker makes it degraded, not down.
 */
export async function checkReadiness(
  running: boolean,
  store: DocumentStore,
  broker?: Broker,
): Promise<Readiness> {
  const [storeOk, brokerOk] = await Promise.all([
    healthy(store.health ? () => store.health?.() ?? Promise.resolve(true) : undefined),
    healthy(broker ? () => broker.health() : undefined),
  ])
  const checks: Record<string, string> = {
    store: storeOk ? 'ok' : 'failing',
    server: running ? 'ok' : 'closing',
  }
  if (broker) checks.broker = brokerOk ? 'ok' : 'failing'
  return { ready: running && storeOk, degraded: !brokerOk, checks }
}

/** A health probe with a deadline: a hanging dependency counts as failing. */
async function healthy(check: (() => Promise<boolean>) | undefined): Promise<boolean> {
  if (!check) return true
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), READINESS_TIMEOUT_MS)
  })
  try {
    return await Promise.race([check().then((ok) => ok === true), timeout])
  } catch {
    return false
  } finally {
    clearTimeout(timer)
  }
}
