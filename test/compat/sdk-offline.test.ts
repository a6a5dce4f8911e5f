/**
 * SDK 0.1.1 offline editing against synckit-engine: a client goes offline with the SDK's own
 * `WebSocketClient.disconnect()`, writes into its offline queue while the others keep writing,
 * and comes back with `connect()` (resubscribe, then replay of the queue without waiting).
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  converge,
  JSON_VALUES,
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

const DOC = 'offline-doc'

describe('SDK 0.1.1 offline queue', () => {
  it('a client that writes offline while others keep writing converges, its offline writes included', async () => {
    const { url } = await startServer(scope)
    const a = await SdkPeer.open(scope, url, DOC, { name: 'online-a', clientId: 'client-a' })
    const b = await SdkPeer.open(scope, url, DOC, { name: 'online-b', clientId: 'client-b' })
    const away = await SdkPeer.open(scope, url, DOC, { name: 'offline-c', clientId: 'client-c' })
    await Promise.all([a.set('before', 'everyone'), away.set('shared', 'c before going offline')])
    await converge(url, DOC, [a, b, away], { must: { before: 'everyone', shared: 'c before going offline' } })

    away.offline()
    expect(away.connectionState()).toBe('disconnected')
    const offlineWrites: State = { ...partition(JSON_VALUES, 1, 'off_')[0], shared: 'c offline edit' }
    // Offline `set()` resolves once the op is in the SDK's offline queue.
    for (const [field, value] of Object.entries(offlineWrites)) await away.set(field, value)
    expect(away.queueSize()).toBe(Object.keys(offlineWrites).length)

    // Meanwhile the others keep writing, including the field the offline client also edits.
    const whileAway: State = {}
    for (let i = 0; i < 5; i++) {
      await a.set(`a${i}`, { i, by: 'a' })
      await b.set(`b${i}`, [i, 'b'])
      Object.assign(whileAway, { [`a${i}`]: { i, by: 'a' }, [`b${i}`]: [i, 'b'] })
    }
    await Promise.all([a.set('shared', 'a while c away'), b.set('shared', 'b while c away')])
    await converge(url, DOC, [a, b], { must: whileAway })
    // Nothing of the offline edits leaked out before the reconnect.
    expect(away.state()).not.toHaveProperty('a0')

    await away.online()
    await waitFor(() => away.queueSize() === 0, {
      timeoutMs: 5_000,
      describe: () => `offline-c to drain its offline queue (still ${away.queueSize()} queued)`,
    })
    // The server orders by arrival: the replayed offline edit of 'shared' arrives last and wins.
    const { state } = await converge(url, DOC, [a, b, away], {
      must: { before: 'everyone', ...whileAway, ...offlineWrites },
    })
    expect(state.shared, show(state)).toBe('c offline edit')
  })

  it('two clients offline at once, editing the same fields, converge with the online one', async () => {
    const { url } = await startServer(scope)
    const online = await SdkPeer.open(scope, url, DOC, { name: 'online' })
    const x = await SdkPeer.open(scope, url, DOC, { name: 'offline-x' })
    const y = await SdkPeer.open(scope, url, DOC, { name: 'offline-y' })
    x.offline()
    y.offline()
    for (let i = 0; i < 3; i++) {
      await x.set('contested', `x${i}`)
      await y.set('contested', `y${i}`)
      await online.set('contested', `online${i}`)
      await x.set(`x${i}`, i)
      await y.set(`y${i}`, i)
    }
    await Promise.all([x.online(), y.online()])
    await converge(url, DOC, [online, x, y], {
      must: { x0: 0, x1: 1, x2: 2, y0: 0, y1: 1, y2: 2 },
      oneOf: { contested: ['x2', 'y2'] },
    })
  })
})
