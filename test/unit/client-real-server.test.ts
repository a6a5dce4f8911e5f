import { describe, expect, it } from 'vitest'
import { SyncServerError } from '../../src/client/index.js'
import type { ChangeEvent } from '../../src/client/types.js'
import { realServerClients } from '../helpers/real-server.js'
import { waitFor, within } from '../helpers/wait-for.js'

const { start, client } = realServerClients()

describe('client against the real server', () => {
  it('resyncs by vector clock after an offline period, including deletes', async () => {
    const url = await start()
    const a = client(url)
    const b = client(url)
    await Promise.all([a.connect(), b.connect()])
    await Promise.all([a.subscribe('doc'), b.subscribe('doc')])
    await a.setMany('doc', { keep: 1, drop: 2, edit: 'old' })
    await waitFor(() => b.get('doc')?.edit === 'old')

    a.disconnect()
    await b.setMany('doc', { edit: 'new', added: true })
    await b.delete('doc', 'drop')
    const changes: ChangeEvent[] = []
    a.on('change', (e) => changes.push(e))
    await within(a.connect(), 5000, 'reconnect')
    const expected = { keep: 1, edit: 'new', added: true }
    await waitFor(() => JSON.stringify(a.get('doc')) === JSON.stringify(expected), { timeoutMs: 5000 })
    expect(changes.some((c) => c.origin === 'sync' && c.fields.includes('drop'))).toBe(true)
    expect(b.get('doc')).toEqual(expected)
  })

  it('authenticates with a token where auth is required, and rejects a bad one', async () => {
    const url = await start({
      auth: {
        required: true,
        verifyCredentials: async ({ token }) =>
          token === 'good'
            ? { userId: 'u1', permissions: { canRead: ['*'], canWrite: ['*'], isAdmin: false } }
            : null,
      },
    })
    const ok = client(url, { token: 'good' })
    await within(ok.connect(), 5000, 'connect')
    await within(ok.set('doc', 'x', 1), 5000, 'set')
    const bad = client(url, { token: 'bad' })
    const error = await within(bad.connect(), 5000, 'connect').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SyncServerError)
    expect(bad.connected).toBe(false)
  })

  it('presence reaches other clients and leaving removes it', async () => {
    const url = await start()
    const a = client(url, { clientId: 'alice' })
    const b = client(url, { clientId: 'bob' })
    await Promise.all([a.connect(), b.connect()])
    const seen = b.awareness('room')
    await waitFor(() => b.connected)
    a.awareness('room').set({ cursor: 3 })
    await waitFor(() => seen.states().get('alice')?.state.cursor === 3, { timeoutMs: 5000 })
    a.awareness('room').set(null)
    await waitFor(() => !seen.states().has('alice'), { timeoutMs: 5000 })
  })

  it('forgets peers while offline: one who left meanwhile is not shown after reconnecting', async () => {
    const url = await start()
    const a = client(url, { clientId: 'alice' })
    const b = client(url, { clientId: 'bob' })
    await Promise.all([a.connect(), b.connect()])
    const presence = a.awareness('room')
    presence.set({ name: 'Alice' })
    b.awareness('room').set({ name: 'Bob' })
    await waitFor(() => presence.states().has('bob'), { timeoutMs: 5000 })
    const left: string[] = []
    a.on('awareness', (event) => event.state === null && left.push(event.clientId))

    a.disconnect()
    // Nobody else is known while offline; the own state stays (it is re-sent on reconnect).
    expect([...presence.states().keys()]).toEqual(['alice'])
    expect(left).toEqual(['bob'])
    b.close()
    await within(a.connect(), 5000, 'reconnect')
    const c = client(url, { clientId: 'carol' })
    await c.connect()
    c.awareness('room').set({ name: 'Carol' })
    await waitFor(() => presence.states().has('carol'), { timeoutMs: 5000 })
    expect([...presence.states().keys()].sort()).toEqual(['alice', 'carol'])
  })
})
