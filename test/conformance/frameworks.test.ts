import { describe, expect, it } from 'vitest'
import { startExpress } from '../runtimes/express.js'
import { startFastify } from '../runtimes/fastify.js'
import { startHono } from '../runtimes/hono.js'
import { type ConformanceTarget, defineConformanceSuite } from './suite.js'

/**
 * The framework mounts of docs/adapters.md, executed: each framework's own HTTP server, an app
 * route beside the SyncKit routes, `attachToHttpServer` for the WebSockets; the smoke subset of
 * the conformance suite through each (the transport itself is the node:http adapter, which the
 * full suite covers in node-http.test.ts).
 */
const FRAMEWORKS: [string, () => Promise<ConformanceTarget>][] = [
  ['Express', startExpress],
  ['Fastify', startFastify],
  ['Hono (@hono/node-server)', startHono],
]

for (const [name, start] of FRAMEWORKS) {
  defineConformanceSuite(`${name} + attachToHttpServer`, start, { subset: 'smoke' })

  describe(`${name} mount`, () => {
    it('leaves the application its own route beside the SyncKit routes', async () => {
      const target = await start()
      try {
        const response = await fetch(`${target.httpUrl}/app/hello`)
        expect(response.status).toBe(200)
        expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
        expect(await response.text()).toBe('hello from the app')
        const health = await fetch(`${target.httpUrl}/health`)
        expect(await health.json()).toMatchObject({ status: 'healthy' })
      } finally {
        await target.stop()
      }
    })
  })
}
