import { describe, expect, it } from 'vitest'
import { startNodeHttpServer } from '../runtimes/node-http.js'
import { defineConformanceSuite } from './suite.js'

defineConformanceSuite('Node + node:http (attachToHttpServer beside an app)', startNodeHttpServer)

describe('node:http adapter beside an application', () => {
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
})
