/**
 * Real `@synckit-js/sdk@0.1.1` clients against synckit-engine inside a Durable Object in real
 * workerd (miniflare; the fixture test/runtimes/cloudflare-worker.ts routes `/ws` to one object):
 * same-field conflicts and distinct fields converge, and a fresh client gets every field.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { bundleWorker, type RunningWorker, runWorker } from '../runtimes/workerd.js'
import { converge, JSON_VALUES, partition, Scope, SdkPeer, type State } from './harness.js'
import { freshClientScenario } from './scenarios.js'

const DURABLE_OBJECTS = {
  SYNC: { className: 'ConformanceObject', useSQLite: true },
  STORE: { className: 'StoreProbe', useSQLite: true },
}

let worker: RunningWorker
let url: string
beforeAll(async () => {
  const code = await bundleWorker('test/runtimes/cloudflare-worker.ts')
  worker = await runWorker(code, { durableObjects: DURABLE_OBJECTS })
  url = `${worker.wsOrigin}/ws`
}, 60_000)
afterAll(() => worker?.dispose())

const scope = new Scope()
afterEach(() => scope.close())

async function writeAll(peer: SdkPeer, fields: State): Promise<void> {
  for (const [field, value] of Object.entries(fields)) await peer.set(field, value)
}

describe('SDK 0.1.1 clients converge on synckit-engine in a Durable Object (workerd)', () => {
  it('two clients: distinct fields of every JSON type and a same-field conflict converge', async () => {
    const doc = `workerd-compat-${Date.now()}`
    const a = await SdkPeer.open(scope, url, doc, { name: 'sdk-a', clientId: 'client-a' })
    const b = await SdkPeer.open(scope, url, doc, { name: 'sdk-b', clientId: 'client-b' })
    const [first, second] = partition(JSON_VALUES, 2)
    await Promise.all([
      writeAll(a, first ?? {}),
      writeAll(b, second ?? {}),
      a.set('title', 'from a'),
      b.set('title', { from: 'b' }),
    ])
    const view = await converge(url, doc, [a, b], {
      must: JSON_VALUES,
      oneOf: { title: ['from a', { from: 'b' }] },
    })
    expect(Object.keys(view.state).sort()).toEqual([...Object.keys(JSON_VALUES), 'title'].sort())
  })

  it('a fresh client subscribing to an existing document ends up with every field', async () => {
    const view = await freshClientScenario(scope, url, `workerd-fresh-${Date.now()}`)
    expect(view.state).toMatchObject({ title: 'final title' })
  })
})
