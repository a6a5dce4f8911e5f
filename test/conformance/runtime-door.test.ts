import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { probeUpgrade } from '../helpers/upgrade-probe.js'
import { DENO_ARGS, runtimeBinary, spawnRuntime } from './spawn-runtime.js'
import { type ConformanceTarget, metricValue } from './suite.js'

/**
 * The upgrade check on the spawned runtimes (Bun.serve, Deno.serve): the fixture runs with
 * `DOOR_OPTIONS` (cookie `session=ok` required, one connection per address). A refused upgrade
 * is an HTTP status the client sees, and the server's metrics show no connection for it.
 */
const RUNTIMES: [string, () => Promise<ConformanceTarget>][] = [
  [
    'Bun',
    () =>
      spawnRuntime({
        name: 'bun',
        command: runtimeBinary('bun'),
        args: ['test/runtimes/bun-server.ts'],
        env: { NO_COLOR: '1', SYNCKIT_FIXTURE: 'door' },
      }),
  ],
  [
    'Deno',
    () =>
      spawnRuntime({
        name: 'deno',
        command: runtimeBinary('deno'),
        args: DENO_ARGS,
        env: { NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1', SYNCKIT_FIXTURE: 'door' },
      }),
  ],
]

for (const [name, start] of RUNTIMES) {
  describe(`the upgrade check on ${name}`, () => {
    let target: ConformanceTarget | undefined
    beforeAll(async () => {
      target = await start()
    }, 60_000)
    afterAll(async () => {
      await target?.stop()
    }, 30_000)

    it('answers 401 without the cookie and 429 over the per-IP cap, opening no WebSocket', async () => {
      const { url, httpUrl } = target as ConformanceTarget
      const unauthenticated = await probeUpgrade(url)
      expect(unauthenticated.status).toBe(401)
      expect(JSON.parse(unauthenticated.body)).toEqual({
        error: { code: 'AUTH_FAILED', message: 'Authentication failed' },
      })
      const ws = new WebSocket(url, { headers: { cookie: 'session=ok' } })
      await new Promise((resolve, reject) => {
        ws.once('open', resolve)
        ws.once('error', reject)
      })
      try {
        const overCap = await probeUpgrade(url, { cookie: 'session=ok' })
        expect(overCap.status).toBe(429)
        expect(JSON.parse(overCap.body).error.code).toBe('TOO_MANY_CONNECTIONS')
        const metrics = await (await fetch(`${httpUrl}/metrics`)).text()
        expect(metricValue(metrics, 'synckit_connections_total')).toBe(1)
        expect(metricValue(metrics, 'synckit_connections_rejected_total')).toBe(2)
      } finally {
        ws.terminate()
      }
    })
  })
}
