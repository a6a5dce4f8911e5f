/**
 * SDK 0.1.1 clients and second-dialect clients (SyncKit's legacy test client, docs/protocol.md §10.3:
 * `auth` without token, `sync_request {id}`, `delta {delta: {...}, vectorClock: {}}`, tombstone
 * deletes) on the same documents of one synckit-engine server.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { JsonValue } from '../../src/protocol/types.js'
import {
  converge,
  JSON_VALUES,
  LegacyPeer,
  partition,
  Scope,
  SdkPeer,
  type State,
  show,
  startServer,
  waitFor,
} from './harness.js'

const scope = new Scope()
afterEach(() => scope.close())

const DOC = 'mixed-doc'

describe('SDK 0.1.1 and second-dialect clients on one document', () => {
  it('converge: distinct fields of every JSON type, conflicts, nulls and a delete', async () => {
    const { url } = await startServer(scope)
    const [sdkA, sdkB] = await Promise.all([
      SdkPeer.open(scope, url, DOC, { name: 'sdk-a' }),
      SdkPeer.open(scope, url, DOC, { name: 'sdk-b' }),
    ])
    const [legacyA, legacyB] = await Promise.all([
      LegacyPeer.open(scope, url, DOC, 'legacy-a'),
      LegacyPeer.open(scope, url, DOC, 'legacy-b'),
    ])
    const slices = partition(JSON_VALUES, 4)
    const sdkWrites = async (peer: SdkPeer, fields: State) => {
      for (const [field, value] of Object.entries(fields)) await peer.set(field, value)
    }
    const legacyWrites = async (peer: LegacyPeer, fields: Record<string, JsonValue>) => {
      for (const [field, value] of Object.entries(fields)) await peer.set(field, value)
    }
    await Promise.all([
      sdkWrites(sdkA, slices[0] ?? {}),
      sdkWrites(sdkB, slices[1] ?? {}),
      legacyWrites(legacyA, slices[2] ?? {}),
      legacyWrites(legacyB, slices[3] ?? {}),
      sdkA.set('shared', 'sdk-a'),
      sdkB.set('shared', { by: 'sdk-b' }),
      legacyA.set('shared', ['legacy-a']),
      legacyB.set('shared', null),
    ])
    await converge(url, DOC, [sdkA, sdkB, legacyA, legacyB], {
      must: { ...JSON_VALUES },
      oneOf: { shared: ['sdk-a', { by: 'sdk-b' }, ['legacy-a'], null] },
    })

    // An SDK client writes, a legacy client deletes it: SDK 0.1.1 has no delete on the wire and
    // keeps the tombstone marker as the field's value (as with SyncKit's own server).
    await sdkA.set('doomed', 'soon deleted')
    await waitFor(() => legacyA.state().doomed === 'soon deleted', {
      describe: () => `legacy-a to receive 'doomed' (has ${show(legacyA.state())})`,
    })
    await legacyA.delete('doomed')
    const view = await converge(url, DOC, [sdkA, sdkB, legacyA, legacyB], { absent: ['doomed'] })
    expect(view.tombstones).toEqual(['doomed'])
    expect(sdkB.state().doomed).toEqual({ __deleted: true })
    expect(legacyB.state()).not.toHaveProperty('doomed')

    // Late joiners of both dialects get everything, the delete included.
    const lateSdk = await SdkPeer.open(scope, url, DOC, { name: 'late-sdk' })
    const lateLegacy = await LegacyPeer.open(scope, url, DOC, 'late-legacy')
    await converge(url, DOC, [sdkA, sdkB, legacyA, legacyB, lateSdk, lateLegacy], {
      must: { ...JSON_VALUES },
      absent: ['doomed'],
    })
  })

  it('writes of one dialect reach the other at once, both ways, field by field', async () => {
    const { url } = await startServer(scope)
    const sdk = await SdkPeer.open(scope, url, DOC, { name: 'sdk' })
    const legacy = await LegacyPeer.open(scope, url, DOC, 'legacy')
    for (let i = 0; i < 5; i++) {
      await sdk.set('pingpong', `sdk${i}`)
      await waitFor(() => legacy.state().pingpong === `sdk${i}`, {
        timeoutMs: 3_000,
        describe: () => `legacy to receive pingpong=sdk${i} (has ${show(legacy.state())})`,
      })
      await legacy.set('pingpong', `legacy${i}`)
      await waitFor(() => sdk.state().pingpong === `legacy${i}`, {
        timeoutMs: 3_000,
        describe: () => `sdk to receive pingpong=legacy${i} (has ${show(sdk.state())})`,
      })
    }
    await converge(url, DOC, [sdk, legacy], { must: { pingpong: 'legacy4' } })
  })
})
