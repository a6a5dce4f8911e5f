import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import postgres from 'postgres'

/**
 * Availability of the external services integration tests use. `DATABASE_URL` / `REDIS_URL` win;
 * otherwise the local defaults are probed with a short TCP connect. Outside CI an unreachable
 * service yields `{ skip: reason }` (print it and skip); with `CI` set it THROWS, so a CI run can
 * never go green by silently skipping the real-database tests.
 */
export type ServiceProbe = { url: string } | { skip: string }

export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test'
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'

export function postgresAvailable(): Promise<ServiceProbe> {
  return probe('Postgres', 'DATABASE_URL', process.env.DATABASE_URL ?? DEFAULT_POSTGRES_URL, 5432)
}

export function redisAvailable(): Promise<ServiceProbe> {
  return probe('Redis', 'REDIS_URL', process.env.REDIS_URL ?? DEFAULT_REDIS_URL, 6379)
}

async function probe(name: string, env: string, url: string, defaultPort: number): Promise<ServiceProbe> {
  const parsed = new URL(url)
  const host = parsed.hostname || '127.0.0.1'
  const port = Number(parsed.port || defaultPort)
  const error = await tcpReachable(host, port, 1000)
  if (error === undefined) return { url }
  const reason = `${name} not reachable at ${host}:${port} (${error}); set ${env} to run these tests`
  if (process.env.CI) throw new Error(`CI: ${reason}`)
  return { skip: reason }
}

/** `undefined` when a TCP connection opens within `timeoutMs`, else the reason it did not. */
export function tcpReachable(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port })
    const done = (reason: string | undefined): void => {
      socket.destroy()
      resolve(reason)
    }
    socket.setTimeout(timeoutMs, () => done(`timeout after ${timeoutMs} ms`))
    socket.once('connect', () => done(undefined))
    socket.once('error', (e) => done(e.message))
  })
}

/** A schema name unique to this test process: `synckit_test_<pid>_<random>`. */
export function testSchemaName(): string {
  return `synckit_test_${process.pid}_${randomBytes(4).toString('hex')}`
}

/**
 * Drops a test schema and everything in it. Tests create their own schema and never assume the
 * server (or `public`) is empty.
 */
export async function dropSchema(url: string, schema: string): Promise<void> {
  if (!/^synckit_test_\w+$/.test(schema)) throw new Error(`refusing to drop ${schema}`)
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    await sql.unsafe(`drop schema if exists "${schema}" cascade`)
  } finally {
    await sql.end({ timeout: 5 })
  }
}
