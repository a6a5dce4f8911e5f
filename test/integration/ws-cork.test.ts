import type { Duplex } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { attachWebSocketServer } from '../../adapters/ws.js'
import type { DocumentSnapshot } from '../../src/crdt/types.js'
import { encodeFrame } from '../../src/protocol/index.js'
import { createSyncServer, MemoryStore, type SyncSocket } from '../../src/server/index.js'
import { waitFor, within } from '../helpers/wait-for.js'
import { CODES, RawClient, withCode } from './server-client.js'

const CORK_BYTES = 65_536
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

interface Rig {
  /** The SyncSocket the adapter handed to the server for the one client. */
  socket: SyncSocket
  /** The server side's TCP socket, with its system-call-level writes counted. */
  raw: Duplex
  writes: () => number
  received: Buffer[]
}

/** One client on a real `ws` server; its SyncSocket captured, the server side's writes counted. */
async function rig(highWaterMark?: number): Promise<Rig> {
  const sync = createSyncServer({
    auth: { required: false },
    ...(highWaterMark === undefined ? {} : { backpressure: { highWaterMark } }),
  })
  let captured: SyncSocket | undefined
  const handleConnection = sync.handleConnection.bind(sync)
  sync.handleConnection = (socket, request) => {
    captured = socket
    return handleConnection(socket, request)
  }
  const attached = await attachWebSocketServer(sync, { port: 0, host: '127.0.0.1' })
  cleanups.push(
    () => sync.close(),
    () => attached.close(),
  )
  const client = new WebSocket(`ws://127.0.0.1:${attached.port}/ws`)
  cleanups.push(async () => client.terminate())
  const received: Buffer[] = []
  client.on('message', (data: Buffer) => received.push(data))
  await new Promise((resolve, reject) => {
    client.once('open', resolve)
    client.once('error', reject)
  })
  const serverSide = await waitFor(() => [...attached.wss.clients][0], { timeoutMs: 5000 })
  const raw = (serverSide as unknown as { _socket: Duplex })._socket
  let writes = 0
  const target = raw as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>
  for (const method of ['_write', '_writev'] as const) {
    const original = target[method].bind(raw)
    target[method] = (...args: unknown[]) => {
      writes++
      return original(...args)
    }
  }
  return { socket: captured as SyncSocket, raw, writes: () => writes, received }
}

function frame(n: number, padding = 0): Uint8Array {
  const encoded = encodeFrame(
    'delta',
    { documentId: 'd', field: `f${n}`, value: 'x'.repeat(padding) },
    n,
    'binary',
  )
  if (typeof encoded === 'string') throw new Error('binary expected')
  return encoded
}

describe('ws adapter: one write per socket per turn', () => {
  it('sends the frames of one turn in a single write, in order', async () => {
    const { socket, writes, received } = await rig()
    const before = writes()
    for (let n = 0; n < 20; n++) expect(socket.send(frame(n))).toBeGreaterThan(0)
    await waitFor(() => received.length >= 20, { timeoutMs: 5000 })
    expect(writes() - before).toBe(1)
    expect(received.map((data) => data.readUInt32BE(5))).toEqual(Array.from({ length: 20 }, (_, n) => n))
  })

  it('writes a burst larger than the cork limit at once instead of holding it to the end of the turn', async () => {
    const { socket, raw, writes, received } = await rig()
    const before = writes()
    const big = Math.ceil(CORK_BYTES / 4)
    for (let n = 0; n < 6; n++) socket.send(frame(n, big))
    // Still in the same turn: what passed the limit is with the kernel, not held back.
    expect(writes() - before).toBeGreaterThanOrEqual(1)
    expect(raw.writableLength).toBeLessThan(6 * big)
    await waitFor(() => received.length >= 6, { timeoutMs: 5000 })
    expect(received.map((data) => data.readUInt32BE(5))).toEqual([0, 1, 2, 3, 4, 5])
  })

  it('holds back no more than the high-water mark when that is below the cork limit', async () => {
    const highWaterMark = 4096
    const { socket, raw, received } = await rig(highWaterMark)
    const size = frame(0, 2048).byteLength
    let held = 0
    for (let n = 0; n < 8; n++) {
      socket.send(frame(n, 2048))
      held = Math.max(held, raw.writableLength)
    }
    expect(held).toBeLessThanOrEqual(highWaterMark + size)
    await waitFor(() => received.length >= 8, { timeoutMs: 5000 })
  })
})

describe('persisting never holds back the echoes of its turn', () => {
  /** A store that works on the event loop (as PGlite and SQLite do): `save` runs synchronously. */
  class SynchronousStore extends MemoryStore {
    readonly held: number[] = []
    watch: Duplex | undefined
    override save(documents: readonly DocumentSnapshot[]): Promise<void> {
      // Bytes of this turn still held in the subscriber's socket when the store takes the loop.
      if (this.watch) this.held.push(this.watch.writableLength)
      return super.save(documents)
    }
  }

  it('the echo is handed to the kernel before the store is called', async () => {
    const store = new SynchronousStore()
    const sync = createSyncServer({ auth: { required: false }, store })
    const attached = await attachWebSocketServer(sync, { port: 0, host: '127.0.0.1' })
    cleanups.push(
      () => sync.close(),
      () => attached.close(),
    )
    const client = await RawClient.connect(`ws://127.0.0.1:${attached.port}/ws`)
    cleanups.push(async () => client.ws.terminate())
    client.send(CODES.subscribe, { documentId: 'doc' })
    await client.next(withCode(CODES.sync_response))
    const serverSide = [...attached.wss.clients][0]
    store.watch = (serverSide as unknown as { _socket: Duplex })._socket
    client.send(CODES.delta, { documentId: 'doc', field: 'f', value: 1, clock: { c: 1 }, messageId: 'm1' })
    await within(client.next(withCode(CODES.ack)), 5000, 'ack')
    expect(store.held.length).toBeGreaterThan(0)
    expect(store.held).toEqual(store.held.map(() => 0))
  })
})
