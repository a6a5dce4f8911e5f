import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { attachToHttpServer } from '../../adapters/node.js'
import { createSyncServer } from '../../src/server/index.js'
import { CONFORMANCE_OPTIONS } from '../runtimes/fixture-options.js'
import { startNodeHttpServer } from '../runtimes/node-http.js'
import { ConformanceClient } from './client.js'
import { defineConformanceSuite } from './suite.js'

defineConformanceSuite('Node + node:http (attachToHttpServer beside an app)', startNodeHttpServer)

describe('node:http adapter', () => {
  it('leaves the application its own routes', async () => {
    const target = await startNodeHttpServer()
    try {
      const response = await fetch(`${target.httpUrl}/app/hello`)
      expect(response.status).toBe(200)
      expect(await response.text()).toBe('hello from the app')
    } finally {
      await target.stop()
    }
  })

  it('serves the HTTP routes itself with {handleHttp: true} on a server nobody else serves', async () => {
    const sync = createSyncServer(CONFORMANCE_OPTIONS)
    const httpServer = createServer()
    const attached = attachToHttpServer(sync, httpServer, { handleHttp: true })
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve))
    const { port } = httpServer.address() as AddressInfo
    try {
      const health = await fetch(`http://127.0.0.1:${port}/health`)
      expect(health.status).toBe(200)
      expect(await health.json()).toMatchObject({ status: 'healthy' })
      expect((await fetch(`http://127.0.0.1:${port}/ws`)).status).toBe(426)
      const client = await ConformanceClient.open(`ws://127.0.0.1:${port}/ws`, 'plain', {
        dialect: 'legacy',
        encoding: 'binary',
      })
      await client.handshake()
      await client.writeAcked('handle-http', { a: 1 })
      await client.waitEcho('handle-http', 'a', 1)
      await sync.close()
      expect(await client.closed()).toEqual({ code: 1001, reason: 'Server shutdown' })
    } finally {
      await sync.close()
      await attached.close()
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve())
        httpServer.closeAllConnections()
      })
    }
  })
})
