/**
 * Real `@synckit-js/sdk@0.1.1` clients against an auth-required synckit-engine server, each with
 * its own JWT in the upgrade URL (`?token=`: SDK 0.1.1 has no other way to send one through
 * `new SyncKit()`): they converge as in anonymous mode, their heartbeat is answered, and a
 * reconnecting client picks up where it left off. Nothing of the hardening of issue 10 (presence
 * ownership, budgets on pings and invalid frames, relayed-op rules) gets in an honest SDK's way.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { signAccessToken } from '../../src/auth/index.js'
import { converge, JSON_VALUES, partition, Scope, SdkPeer, startServer, waitFor } from './harness.js'

const scope = new Scope()
afterEach(() => scope.close())

const DOC = 'compat-jwt-doc'
const SECRET = 'compat-secret-of-at-least-32-characters!!'
const permissions = { canRead: ['compat-*'], canWrite: ['compat-*'], isAdmin: false }

async function urlFor(base: string, userId: string): Promise<string> {
  const token = await signAccessToken({ userId, permissions }, { secret: SECRET })
  return `${base}?token=${encodeURIComponent(token)}`
}

describe('SDK 0.1.1 clients with JWTs converge on synckit-engine', () => {
  it('two users (one on two sockets) converge, are answered pings, and one reconnects', async () => {
    const { url } = await startServer(scope, { auth: { required: true, jwt: { secret: SECRET } } })
    const [aliceUrl, bobUrl] = await Promise.all([urlFor(url, 'alice'), urlFor(url, 'bob')])
    const peers = await Promise.all([
      SdkPeer.open(scope, aliceUrl, DOC, { name: 'alice-tab-1', clientId: 'client-a1' }),
      SdkPeer.open(scope, aliceUrl, DOC, { name: 'alice-tab-2', clientId: 'client-a2' }),
      SdkPeer.open(scope, bobUrl, DOC, { name: 'bob', clientId: 'client-b' }),
    ])
    const [a1, a2, b] = peers as [SdkPeer, SdkPeer, SdkPeer]
    const slices = partition(JSON_VALUES, 3)
    await Promise.all([
      ...Object.entries(slices[0] ?? {}).map(([field, value]) => a1.set(field, value)),
      ...Object.entries(slices[1] ?? {}).map(([field, value]) => a2.set(field, value)),
      ...Object.entries(slices[2] ?? {}).map(([field, value]) => b.set(field, value)),
      a1.set('title', 'a1'),
      b.set('title', 'b'),
    ])
    await converge(aliceUrl, DOC, peers, { must: { ...JSON_VALUES }, oneOf: { title: ['a1', 'b'] } })

    b.offline()
    await a2.set('whileAway', 1)
    await b.online()
    await b.set('back', true)
    await converge(bobUrl, DOC, peers, { must: { ...JSON_VALUES, whileAway: 1, back: true } })

    await waitFor(() => peers.every((peer) => peer.pongs > 0), {
      timeoutMs: 3_000,
      describe: () =>
        `a pong for every client (pongs: ${peers.map((p) => `${p.name}=${p.pongs}`).join(', ')})`,
    })
    expect(a1.connectionLog).toEqual(['connected'])
    expect(a2.connectionLog).toEqual(['connected'])
  })
})
