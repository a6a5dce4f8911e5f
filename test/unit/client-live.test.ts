import { describe, expect, it } from 'vitest'
import type { DocumentView } from '../../src/client/types.js'
import { realServerClients } from '../helpers/real-server.js'
import { waitFor, within } from '../helpers/wait-for.js'

const { start, client } = realServerClients()

/** Every view `onChange` delivered, in order. */
function recorder(): { views: DocumentView[]; onChange: (view: DocumentView) => void; last(): DocumentView } {
  const views: DocumentView[] = []
  return {
    views,
    onChange: (view) => views.push(view),
    last: () => {
      const view = views.at(-1)
      if (!view) throw new Error('no view delivered yet')
      return view
    },
  }
}

describe('subscribe(documentId, onChange): the live view', () => {
  it('delivers the current view in a microtask, then the synced state; views are frozen and stable', async () => {
    const url = await start()
    const writer = client(url)
    await writer.connect()
    await writer.subscribe('doc')
    await writer.setMany('doc', { title: 'Hello', done: false })

    const reader = client(url)
    const seen = recorder()
    const live = reader.subscribe('doc', seen.onChange)
    expect(seen.views).toEqual([]) // never re-entrant: nothing during the call itself
    expect(live.current).toMatchObject({ documentId: 'doc', fields: {}, synced: false, connected: false })
    await Promise.resolve()
    expect(seen.views).toHaveLength(1)
    expect(seen.views[0]).toBe(live.current)

    await reader.connect()
    await within(live.ready, 5000, 'ready')
    await waitFor(() => seen.last().synced)
    expect(seen.last()).toMatchObject({
      fields: { title: 'Hello', done: false },
      connected: true,
      pendingWrites: 0,
    })
    expect(live.current).toBe(live.current)
    expect(Object.isFrozen(live.current)).toBe(true)
    expect(Object.isFrozen(live.current.fields)).toBe(true)
  })

  it('shows a local write at once as pending, then acknowledged; a remote write arrives', async () => {
    const url = await start()
    const a = client(url)
    const b = client(url)
    await Promise.all([a.connect(), b.connect()])
    const seenA = recorder()
    const liveA = a.subscribe('doc', seenA.onChange)
    const liveB = b.subscribe('doc', () => {})
    await Promise.all([liveA.ready, liveB.ready])

    const acked = a.set('doc', 'title', 'from a')
    expect(liveA.current.fields).toEqual({ title: 'from a' })
    expect(liveA.current.pendingWrites).toBe(1)
    await within(acked, 5000, 'ack')
    await waitFor(() => seenA.last().pendingWrites === 0)
    await waitFor(() => liveB.current.fields.title === 'from a', { timeoutMs: 5000 })

    await b.delete('doc', 'title')
    await waitFor(() => seenA.last().fields.title === undefined, { timeoutMs: 5000 })
  })

  it('coalesces the changes of one turn into one call', async () => {
    const url = await start()
    const a = client(url)
    await a.connect()
    const seen = recorder()
    const live = a.subscribe('doc', seen.onChange)
    await live.ready
    await waitFor(() => seen.last().synced)
    const before = seen.views.length
    void a.set('doc', 'x', 1)
    void a.set('doc', 'y', 2)
    void a.set('doc', 'z', 3)
    await Promise.resolve()
    expect(seen.views.length).toBe(before + 1)
    expect(seen.last()).toMatchObject({ fields: { x: 1, y: 2, z: 3 }, pendingWrites: 3 })
  })

  it('lists presence, own entry first, and shows others leave', async () => {
    const url = await start()
    const a = client(url, { clientId: 'alice' })
    const b = client(url, { clientId: 'bob' })
    await Promise.all([a.connect(), b.connect()])
    const liveA = a.subscribe('room', () => {})
    const liveB = b.subscribe('room', () => {})
    liveA.setPresence({ name: 'Alice', color: '#f00' })
    liveB.setPresence({ name: 'Bob', color: '#00f' })
    await waitFor(() => liveA.current.presence.length === 2, { timeoutMs: 5000 })
    expect(liveA.current.presence).toEqual([
      { clientId: 'alice', state: { name: 'Alice', color: '#f00' }, self: true },
      { clientId: 'bob', state: { name: 'Bob', color: '#00f' }, self: false },
    ])
    await waitFor(() => liveB.current.presence.length === 2, { timeoutMs: 5000 })
    expect(liveB.current.presence.map((p) => p.clientId)).toEqual(['bob', 'alice'])

    b.disconnect()
    await waitFor(() => liveA.current.presence.length === 1, { timeoutMs: 5000 })
    expect(liveB.current.presence.map((p) => p.clientId)).toEqual(['bob'])
    expect(liveB.current.connected).toBe(false)
  })

  it('queues writes while offline and merges them on reconnect', async () => {
    const url = await start()
    const a = client(url)
    const b = client(url)
    await Promise.all([a.connect(), b.connect()])
    const liveA = a.subscribe('doc', () => {})
    const liveB = b.subscribe('doc', () => {})
    await Promise.all([liveA.ready, liveB.ready])

    a.disconnect()
    await waitFor(() => !liveA.current.connected)
    void a.set('doc', 'offline', 'queued')
    void a.set('doc', 'shared', 'a')
    await b.set('doc', 'online', 'b')
    expect(liveA.current).toMatchObject({ pendingWrites: 2, fields: { offline: 'queued', shared: 'a' } })

    await within(a.connect(), 5000, 'reconnect')
    const merged = { offline: 'queued', online: 'b', shared: 'a' } // sorted by field
    await waitFor(() => liveA.current.pendingWrites === 0, { timeoutMs: 5000 })
    await waitFor(() => JSON.stringify(sorted(liveA.current.fields)) === JSON.stringify(merged), {
      timeoutMs: 5000,
    })
    await waitFor(() => JSON.stringify(sorted(liveB.current.fields)) === JSON.stringify(merged), {
      timeoutMs: 5000,
    })
  })

  it('stops calling after unsubscribe, and reports a throwing onChange as an error', async () => {
    const url = await start()
    const a = client(url)
    await a.connect()
    const errors: Error[] = []
    a.on('error', (error) => errors.push(error))
    const live = a.subscribe('doc', () => {
      throw new Error('render failed')
    })
    await live.ready
    await waitFor(() => errors.length > 0)
    expect(errors[0]?.message).toBe('render failed')

    const seen = recorder()
    const quiet = a.subscribe('doc', seen.onChange)
    await Promise.resolve()
    const calls = seen.views.length
    quiet.unsubscribe()
    await a.set('doc', 'after', true)
    await Promise.resolve()
    expect(seen.views.length).toBe(calls)
  })
})

function sorted(fields: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : 1)))
}
