import { it } from 'vitest'
import { ConformanceClient } from './client.js'
import { runtimeBinary, spawnRuntime } from './spawn-runtime.js'
it('timing', async () => {
  const t = await spawnRuntime({ name: 'deno', command: runtimeBinary('deno'), args: ['run','--node-modules-dir=manual','--sloppy-imports','--no-lock','--allow-net=127.0.0.1','--allow-env','--allow-read','test/runtimes/deno-server.ts'] })
  const c = await ConformanceClient.open(t.url, 'x', { dialect: 'sdk', encoding: 'binary' })
  await c.join('doc1')
  for (const [n, size] of [[24, 100], [24, 1000], [24, 4000], [24, 8192], [48, 8192], [1, 200000], [2, 100000]]) {
    const fields: Record<string, string> = {}
    for (let i = 0; i < n; i++) fields[`f${n}-${size}-${i}`] = 'v'.repeat(size)
    const t0 = Date.now()
    await c.writeAcked('doc1', fields)
    console.log('deno', n, 'x', size, 'ack in', Date.now() - t0)
  }
  c.close(); await t.stop()
}, 60000)
