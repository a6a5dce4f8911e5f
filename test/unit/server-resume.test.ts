import { describe, expect, it } from 'vitest'
import type { Principal } from '../../src/engine/types.js'
import { createSyncServer, MemoryStore } from '../../src/server/index.js'
import { resolveServerOptions } from '../../src/server/resolve-options.js'
import { SyncServerRuntime } from '../../src/server/runtime.js'
import { FakeSocket, frame, turns, waitFor } from './server-fakes.js'

/** `resumeConnection` and the `timers` seam: what a Durable Object host needs from the runtime. */

const BOB: Principal = {
  userId: 'bob',
  permissions: { canRead: ['*'], canWrite: ['*'], isAdmin: false },
  via: 'token',
}

describe('SyncServer.resumeConnection', () => {
  it('serves a connection of an earlier instance as it was: silent, subscribed, in its format', async () => {
    const store = new MemoryStore()
    const before = createSyncServer({ auth: { required: false }, store, nodeId: 'n1' })
    const writer = new FakeSocket()
    const writing = before.handleConnection(writer)
    writing.receive(frame('delta', { documentId: 'doc', delta: { a: 1 }, messageId: 'm1' }))
    await waitFor(() => writer.ofType('ack').length === 1, 2_000, 'the ack before the restart')
    await before.close()

    const after = createSyncServer({ auth: { required: false }, store, nodeId: 'n1' })
    const events: string[] = []
    after.on('subscribed', ({ documentId }) => events.push(`subscribed ${documentId}`))
    after.on('authenticated', ({ principal }) => events.push(`authenticated ${principal.userId}`))
    const socket = new FakeSocket()
    const handle = after.resumeConnection(
      socket,
      { url: '/ws' },
      { principal: BOB, format: 'json', documents: ['doc'] },
    )
    await turns()
    expect(socket.frames).toEqual([])
    expect(events).toEqual(['authenticated bob', 'subscribed doc'])
    expect(after.stats()).toMatchObject({ connections: 1, authenticatedConnections: 1, subscriptions: 1 })

    const other = new FakeSocket()
    after
      .handleConnection(other)
      .receive(frame('delta', { documentId: 'doc', delta: { b: 2 }, messageId: 'm2' }))
    await waitFor(() => socket.ofType('delta').length === 1, 2_000, 'the echo on the resumed socket')
    expect(typeof socket.frames[0]).toBe('string') // JSON text, as before the restart
    expect(socket.ofType('delta')[0]).toMatchObject({ documentId: 'doc', field: 'b', value: 2 })

    handle.receive(JSON.stringify({ type: 'ping' }))
    await waitFor(() => socket.ofType('pong').length === 1, 2_000, 'a pong to the resumed socket')
    expect(after.documentState('doc')).toEqual({ a: 1, b: 2 })
    await after.close()
    expect(socket.closedWith).toEqual({ code: 1001, reason: 'Server shutdown' })
  })

  it('keeps the context the connection was admitted with: the policy and the events see it', async () => {
    type Team = { team: string }
    const sync = createSyncServer<Team>({
      auth: { authorize: ({ documentId, context }) => documentId.startsWith(`${context?.team}:`) },
    })
    const contexts: unknown[] = []
    sync.on('connection', ({ context }) => contexts.push(context))
    sync.on('subscribed', ({ context }) => contexts.push(context))
    const socket = new FakeSocket()
    const handle = sync.resumeConnection(
      socket,
      {},
      {
        principal: BOB,
        format: 'json',
        documents: ['acme:board', 'globex:board'],
        context: { team: 'acme' },
      },
    )
    await turns()
    expect(contexts).toEqual([{ team: 'acme' }, { team: 'acme' }]) // globex:board is not resubscribed
    handle.receive(frame('delta', { documentId: 'acme:board', delta: { a: 1 }, messageId: 'm1' }))
    await waitFor(() => socket.ofType('ack').length === 1, 2_000, 'the ack in its own team')
    expect(sync.stats().subscriptions).toBe(1)
    await sync.close()
  })

  it('refuses with 1001 once the server is closing', async () => {
    const sync = createSyncServer({ auth: { required: false } })
    await sync.close()
    const socket = new FakeSocket()
    sync.resumeConnection(socket, {}, { principal: BOB, documents: [] })
    expect(socket.closedWith).toEqual({ code: 1001, reason: 'Server shutdown' })
  })
})

describe('the timers seam', () => {
  it('hands the tick and the heartbeat to the host, which decides when they run', async () => {
    const scheduled: { intervalMs: number; task: () => void; stopped: boolean }[] = []
    const sync = new SyncServerRuntime({
      ...resolveServerOptions({
        auth: { required: false },
        tickIntervalMs: 250,
        heartbeat: { intervalMs: 5_000 },
      }),
      timers: {
        every(intervalMs, task) {
          const timer = { intervalMs, task, stopped: false }
          scheduled.push(timer)
          return { stop: () => (timer.stopped = true) }
        },
      },
    })
    expect(scheduled.map((timer) => timer.intervalMs)).toEqual([250, 5_000])
    // The tick the host runs does the engine's time-driven work: here, the auth deadline.
    const strict = new SyncServerRuntime({
      ...resolveServerOptions({ limits: { authTimeoutMs: 1 } }),
      timers: {
        every(_intervalMs, task) {
          scheduled.push({ intervalMs: -1, task, stopped: false })
          return { stop() {} }
        },
      },
    })
    const socket = new FakeSocket()
    strict.handleConnection(socket)
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(socket.closedWith).toBeUndefined()
    for (const timer of scheduled.filter((t) => t.intervalMs === -1)) timer.task()
    expect(socket.closedWith).toEqual({ code: 1008, reason: 'Authentication timeout' })
    await sync.close()
    await strict.close()
    expect(scheduled.slice(0, 2).every((timer) => timer.stopped)).toBe(true)
  })
})
