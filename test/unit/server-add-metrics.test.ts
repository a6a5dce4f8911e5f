import { afterEach, describe, expect, it } from 'vitest'
import { createSyncServer, type SyncServer } from '../../src/server/index.js'

const servers: SyncServer[] = []
afterEach(async () => {
  for (const sync of servers.splice(0)) await sync.close()
})

const scrape = async (sync: SyncServer) => (await sync.fetch(new Request('http://localhost/metrics'))).text()

describe('SyncServer.addMetrics', () => {
  it('appends an add-on its text after the server metrics, rendered at every scrape', async () => {
    const sync = createSyncServer({ auth: { required: false } })
    servers.push(sync)
    let jobs = 1
    sync.addMetrics(() => `# HELP app_jobs Jobs.\n# TYPE app_jobs gauge\napp_jobs ${jobs}\n`)
    expect(await scrape(sync)).toMatch(/synckit_uptime_seconds[\s\S]*\napp_jobs 1\n$/)
    jobs = 2
    expect(await scrape(sync)).toMatch(/\napp_jobs 2\n$/)
    expect(sync.metrics()).toBe(await scrape(sync))
  })

  it('a renderer that throws costs its own lines only', async () => {
    const sync = createSyncServer({ auth: { required: false } })
    servers.push(sync)
    sync.addMetrics(() => {
      throw new Error('stats gone\nmultiline')
    })
    sync.addMetrics(() => 'app_ok 1')
    const text = await scrape(sync)
    expect(text).toMatch(/^synckit_connections_total 0$/m)
    expect(text).toContain('\n# add-on metrics failed: stats gone multiline\napp_ok 1\n')
  })
})
