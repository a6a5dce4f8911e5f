import { afterEach, describe, expect, it } from 'vitest'
import type { Broker } from '../../src/cluster/broker.js'
import type { DocumentSnapshot } from '../../src/crdt/types.js'
import type { Principal } from '../../src/engine/types.js'
import {
  createSyncServer,
  type DocumentStore,
  MemoryStore,
  type SyncServer,
  type SyncServerOptions,
} from '../../src/server/index.js'
import { FakeSocket, frame, turns, waitFor } from './server-fakes.js'

const servers: SyncServer[] = []
function server(options: SyncServerOptions = {}): SyncServer {
  const created = createSyncServer({ auth: { required: false }, ...options })
  servers.push(created)
  return created
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

function connect(sync: SyncServer, socket = new FakeSocket(), ip = '10.0.0.1') {
  const handle = sync.handleConnection(socket, { remoteAddress: ip })
  return { socket, handle }
}

describe('createSyncServer: effect interpreter with fake sockets', () => {
  it('answers a binary ping with a binary pong and a JSON ping with a JSON pong', async () => {
    const sync = server()
    const a = connect(sync)
    a.handle.receive(frame('ping', { id: 'p1' }))
    expect(a.socket.frames).toHaveLength(1)
    const [pong] = a.socket.frames
    expect(pong).toBeInstanceOf(Uint8Array)
    expect((pong as Uint8Array)[0]).toBe(0x31)

    const b = connect(sync)
    b.handle.receive(frame('ping', { id: 'p2' }, 'json'))
    expect(typeof b.socket.frames[0]).toBe('string')
    expect(b.socket.messages()[0]?.type).toBe('pong')
  })

  it('subscribes anonymously, loads from the store and answers sync_response', async () => {
    const store = new MemoryStore()
    const sync = server({ store, resendFieldsOnSubscribe: false })
    const a = connect(sync)
    a.handle.receive(frame('subscribe', { documentId: 'doc-1' }))
    await waitFor(() => a.socket.ofType('sync_response').length === 1)
    const [response] = a.socket.ofType('sync_response')
    expect(response).toMatchObject({ documentId: 'doc-1', state: {} })
  })

  it('encodes a broadcast once per wire format and hands the same bytes to every socket', async () => {
    const sync = server({ resendFieldsOnSubscribe: false })
    const a = connect(sync)
    const b = connect(sync)
    const c = connect(sync)
    a.handle.receive(frame('subscribe', { documentId: 'shared' }))
    b.handle.receive(frame('subscribe', { documentId: 'shared' }))
    c.handle.receive(frame('subscribe', { id: 's', documentId: 'shared' }, 'json'))
    await waitFor(() => c.socket.ofType('sync_response').length === 1 && b.socket.frames.length === 1)
    a.handle.receive(frame('delta', { documentId: 'shared', delta: { title: 'hello' }, messageId: 'm1' }))
    await waitFor(() => c.socket.ofType('delta').length === 1)
    const echoA = a.socket.frames.find((f) => f instanceof Uint8Array && f[0] === 0x20)
    const echoB = b.socket.frames.find((f) => f instanceof Uint8Array && f[0] === 0x20)
    expect(echoA).toBeInstanceOf(Uint8Array)
    expect(echoA).toBe(echoB) // the very same buffer object
    expect(c.socket.ofType('delta')[0]).toMatchObject({ field: 'title', value: 'hello', clientId: 'server' })
    expect(typeof c.socket.frames.at(-1)).toBe('string')
  })

  it('runs one flush at the end of the I/O turn: writes in one turn echo once', async () => {
    const sync = server({ resendFieldsOnSubscribe: false })
    const a = connect(sync)
    a.handle.receive(frame('subscribe', { documentId: 'd' }))
    await waitFor(() => a.socket.ofType('sync_response').length === 1)
    for (let i = 1; i <= 5; i++) a.handle.receive(frame('delta', { documentId: 'd', delta: { n: i } }))
    expect(a.socket.ofType('delta')).toHaveLength(0) // nothing before the turn ends
    await waitFor(() => a.socket.ofType('delta').length > 0)
    await turns()
    const echoes = a.socket.ofType('delta')
    expect(echoes).toHaveLength(1)
    expect(echoes[0]?.value).toBe(5)
  })

  it('acks a write only once the store committed it (durable acks)', async () => {
    const store = new MemoryStore()
    const sync = server({ store })
    const a = connect(sync)
    a.handle.receive(frame('delta', { documentId: 'd', delta: { x: 1 }, messageId: 'w1' }))
    await waitFor(() => a.socket.ofType('ack').length === 1)
    expect(a.socket.ofType('ack')[0]?.messageId).toBe('w1')
    const stored = await store.load('d')
    expect(stored?.registers.map((r) => [r.field, r.value])).toEqual([['x', 1]])
  })

  it('retries a failed save with backoff, then acks', async () => {
    const inner = new MemoryStore()
    let failures = 2
    const store: DocumentStore = {
      load: (id) => inner.load(id),
      save: async (docs) => {
        if (failures-- > 0) throw new Error('transient')
        await inner.save(docs)
      },
    }
    const sync = server({ store, persist: { attempts: 3, retryDelayMs: 5 } })
    const errors: string[] = []
    sync.on('error', (error, context) => errors.push(`${context.operation}:${error.message}`))
    const a = connect(sync)
    a.handle.receive(frame('delta', { documentId: 'd', delta: { x: 1 }, messageId: 'w1' }))
    await waitFor(() => a.socket.ofType('ack').length === 1)
    expect(errors).toEqual(['persist:transient', 'persist:transient'])
    expect((await inner.load('d'))?.registers).toHaveLength(1)
  })

  it('reports persist-failed to the engine after the last attempt (no ack, an error)', async () => {
    const store: DocumentStore = {
      load: async () => undefined,
      save: async () => {
        throw new Error('disk full')
      },
    }
    const sync = server({ store, persist: { attempts: 2, retryDelayMs: 1 } })
    sync.on('error', () => {})
    const a = connect(sync)
    a.handle.receive(frame('delta', { documentId: 'd', delta: { x: 1 }, messageId: 'w1' }))
    await waitFor(() => a.socket.ofType('error').length >= 1)
    // Clients get a code, never the store's message (it can name hosts and ports).
    expect(a.socket.ofType('error')[0]?.error).toBe('Write not persisted: store unavailable')
    expect(a.socket.ofType('ack')).toHaveLength(0)
  })

  it('answers load failures with an error, never an empty document', async () => {
    const store: DocumentStore = {
      load: async () => {
        throw new Error('db down')
      },
      save: async () => {},
    }
    const sync = server({ store })
    sync.on('error', () => {})
    const a = connect(sync)
    a.handle.receive(frame('subscribe', { documentId: 'd' }))
    await waitFor(() => a.socket.ofType('error').length === 1)
    expect(a.socket.ofType('error')[0]?.error).toBe('Failed to load document: store unavailable')
    expect(a.socket.ofType('sync_response')).toHaveLength(0)
  })

  it('hands the store a snapshot it cannot alias, and loads empty documents as empty', async () => {
    const saved: (readonly DocumentSnapshot[])[] = []
    const store: DocumentStore = {
      load: async () => undefined,
      save: async (docs) => {
        saved.push(docs)
      },
    }
    const sync = server({ store })
    const a = connect(sync)
    a.handle.receive(frame('delta', { documentId: 'd', delta: { x: 1 } }))
    await waitFor(() => saved.length === 1)
    expect(saved[0]?.[0]).toMatchObject({ documentId: 'd', registers: [{ field: 'x', value: 1 }] })
  })
})

describe('createSyncServer: authentication', () => {
  const principal: Principal = {
    userId: 'u1',
    permissions: { canRead: ['*'], canWrite: ['*'], isAdmin: false },
  }

  it('calls verifyCredentials with the credentials and the upgrade request', async () => {
    const seen: unknown[] = []
    const sync = server({
      auth: {
        verifyCredentials: async (credentials, request) => {
          seen.push(credentials.token, request.url)
          return credentials.token === 'good' ? principal : null
        },
      },
    })
    const events: string[] = []
    sync.on('authenticated', (e) => events.push(e.principal.userId))
    const socket = new FakeSocket()
    const handle = sync.handleConnection(socket, { remoteAddress: '1.2.3.4', url: '/ws?x=1' })
    handle.receive(frame('auth', { token: 'good' }))
    await waitFor(() => socket.ofType('auth_success').length === 1)
    expect(socket.ofType('auth_success')[0]?.userId).toBe('u1')
    expect(seen).toEqual(['good', '/ws?x=1'])
    expect(events).toEqual(['u1'])
  })

  it('refuses with auth_error and close 1008 when verifyCredentials says no', async () => {
    const sync = server({ auth: { verifyCredentials: async () => null } })
    const { socket, handle } = connect(sync)
    handle.receive(frame('auth', { token: 'bad' }))
    await waitFor(() => socket.closedWith !== undefined)
    expect(socket.ofType('auth_error')[0]?.error).toBe('Authentication failed')
    expect(socket.closedWith).toEqual({ code: 1008, reason: 'Authentication failed' })
  })

  it('fails credentials it cannot verify when no hook is configured', async () => {
    const sync = server({ auth: { required: true } })
    const { socket, handle } = connect(sync)
    handle.receive(frame('auth', { token: 'anything' }))
    await waitFor(() => socket.closedWith !== undefined)
    expect(socket.closedWith?.code).toBe(1008)
    expect(sync.stats().connections).toBe(0)
  })

  it('treats a throwing verifyCredentials as a refusal and reports it', async () => {
    const sync = server({
      auth: {
        verifyCredentials: async () => {
          throw new Error('jwks unreachable')
        },
      },
    })
    const errors: string[] = []
    sync.on('error', (error, context) => errors.push(`${context.operation}:${error.message}`))
    const { socket, handle } = connect(sync)
    handle.receive(frame('auth', { token: 't' }))
    await waitFor(() => socket.closedWith !== undefined)
    expect(errors).toEqual(['verify-credentials:jwks unreachable'])
  })
})

describe('createSyncServer: events and stats', () => {
  it('emits typed events and counts traffic', async () => {
    const sync = server({ resendFieldsOnSubscribe: false })
    const log: string[] = []
    sync.on('connection', (e) => log.push(`connection:${e.connectionId}:${e.ip}`))
    sync.on('authenticated', (e) => log.push(`authenticated:${e.connectionId}`))
    sync.on('subscribed', (e) => log.push(`subscribed:${e.documentId}`))
    sync.on('document-change', (e) => log.push(`change:${e.documentId}:${e.registers.map((r) => r.field)}`))
    sync.on('protocol-error', (e) => log.push(`protocol-error:${e.code}`))
    sync.on('disconnect', (e) => log.push(`disconnect:${e.connectionId}`))
    const { socket, handle } = connect(sync)
    handle.receive(frame('subscribe', { documentId: 'd' }))
    handle.receive(new Uint8Array([0x10, 1, 2])) // truncated frame
    await waitFor(() => socket.ofType('sync_response').length === 1)
    handle.receive(frame('delta', { documentId: 'd', delta: { a: 1 } }))
    await waitFor(() => socket.ofType('delta').length === 1)
    const stats = sync.stats()
    expect(stats).toMatchObject({ connections: 1, documents: 1, subscriptions: 1, messagesIn: 3 })
    expect(stats.bytesIn).toBeGreaterThan(0)
    expect(stats.messagesOut).toBe(socket.frames.length)
    handle.closed()
    handle.closed() // idempotent
    expect(log).toEqual([
      `connection:${handle.id}:10.0.0.1`,
      `authenticated:${handle.id}`,
      'protocol-error:INVALID_MESSAGE',
      'subscribed:d',
      'change:d:a',
      `disconnect:${handle.id}`,
    ])
    expect(sync.stats().connections).toBe(0)
  })

  it('survives a throwing listener and reports it as an error event', async () => {
    const sync = server()
    const errors: string[] = []
    sync.on('connection', () => {
      throw new Error('listener bug')
    })
    sync.on('error', (error, context) => errors.push(`${context.operation}:${error.message}`))
    const { socket, handle } = connect(sync)
    handle.receive(frame('ping'))
    expect(socket.ofType('pong')).toHaveLength(1)
    expect(errors).toEqual(['listener:listener bug'])
  })

  it('assigns conn-<n> ids and ignores frames after close', async () => {
    const sync = server()
    const a = connect(sync)
    const b = connect(sync)
    expect([a.handle.id, b.handle.id]).toEqual(['conn-1', 'conn-2'])
    a.handle.closed()
    a.handle.receive(frame('ping'))
    expect(a.socket.frames).toHaveLength(0)
  })
})

describe('createSyncServer: cluster seam and revocation', () => {
  it('loads a document only after its topic subscription settled, and publishes only after the commit', async () => {
    const log: string[] = []
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const store = new MemoryStore()
    const tracked: DocumentStore = {
      load: (id) => {
        log.push(`load:${id}`)
        return store.load(id)
      },
      save: (docs) => {
        log.push('save')
        return store.save(docs)
      },
    }
    // What the runtime asks of the cluster, through the broker: document topics and what is sent on them.
    const broker: Broker = {
      nodeId: 'node-a',
      publish: async (topic, message) => {
        const { type } = JSON.parse(String(message)) as { type: string }
        if (topic.startsWith('doc:') || topic === 'control') log.push(`${type}:${topic}`)
      },
      subscribe: async (topic) => {
        if (!topic.startsWith('doc:')) return
        log.push(`subscribe:${topic}`)
        await gate
      },
      unsubscribe: async () => {},
      onReconnect: () => () => {},
      health: async () => true,
      close: async () => {},
    }
    const sync = server({ store: tracked, broker, nodeId: 'node-a' })
    const { socket, handle } = connect(sync)
    handle.receive(frame('delta', { documentId: 'd', delta: { a: 1 }, messageId: 'w' }))
    await turns()
    expect(log).toEqual(['subscribe:doc:d'])
    release()
    await waitFor(() => socket.ofType('ack').length === 1)
    await turns()
    expect(log).toEqual(['subscribe:doc:d', 'awareness-query:doc:d', 'load:d', 'save', 'registers:doc:d'])
    sync.revoke({ userId: 'anonymous' })
    await turns()
    expect(log.at(-1)).toBe('revoke:control')
    expect(socket.closedWith).toEqual({ code: 1008, reason: 'Access revoked' })
  })
})
