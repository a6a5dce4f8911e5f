/**
 * The custom-transport API: a SyncServer served over something that is not a WebSocket, here an
 * in-process `MessageChannel` (the same code works between a page and a worker).
 *
 *   npx tsx examples/custom-transport.ts
 *
 * A transport needs two things from the server:
 *   const handle = sync.handleConnection(socket, request?)   // when a peer connects
 *   handle.receive(frame) / handle.closed()                  // what the peer sends / when it goes
 * and gives it a `SyncSocket`: `send(data) -> bytes | 0 (gone) | -1 (backpressure)`, never
 * throwing, and `close(code, reason)`.
 */
// In an application: `from 'synckit-engine/protocol'` and `from 'synckit-engine'`.
import { decodeServerFrame, encodeFrame, type ServerMessage } from '../src/protocol/index.js'
import {
  type ConnectionHandle,
  createSyncServer,
  type SyncServer,
  type SyncSocket,
} from '../src/server/index.js'

/** What travels over a port: a frame (a string is a text frame, bytes a binary frame), or a close. */
type Packet = { frame: string | Uint8Array } | { close: { code: number; reason: string } }

// ---------------------------------------------------------------- the transport (server side)

/** Serves one peer connected through `port`. */
function servePort(sync: SyncServer, port: MessagePort, peer: string): void {
  let handle: ConnectionHandle | undefined
  let open = true
  const socket: SyncSocket = {
    send(data) {
      if (!open) return 0
      // postMessage copies: the server hands the very same buffer to every socket, so never
      // transfer it. A channel has no backpressure to report, so this never returns -1.
      port.postMessage({ frame: data } satisfies Packet)
      return typeof data === 'string' ? data.length : data.byteLength
    },
    close(code, reason) {
      if (!open) return
      open = false
      port.postMessage({ close: { code, reason } } satisfies Packet)
      port.close()
      handle?.closed()
    },
  }
  handle = sync.handleConnection(socket, { remoteAddress: peer })
  port.onmessage = (event: MessageEvent<Packet>) => {
    const packet = event.data
    if ('frame' in packet) {
      handle?.receive(packet.frame)
    } else if (open) {
      open = false
      port.close()
      handle?.closed()
    }
  }
}

// ---------------------------------------------------------------- a client (binary frames)

class PortClient {
  readonly #received: ServerMessage[] = []
  readonly #waiters = new Set<() => void>()
  /** Resolves when the server closes this connection. */
  readonly closed: Promise<{ code: number; reason: string }>

  constructor(
    readonly name: string,
    readonly port: MessagePort,
  ) {
    let onClose: (close: { code: number; reason: string }) => void = () => {}
    this.closed = new Promise((resolve) => {
      onClose = resolve
    })
    port.onmessage = (event: MessageEvent<Packet>) => {
      const packet = event.data
      if (!('frame' in packet)) {
        port.close()
        return onClose(packet.close)
      }
      const decoded = decodeServerFrame(packet.frame)
      if (!decoded.ok) return console.log(`${name} <- undecodable frame: ${decoded.error.message}`)
      this.#received.push(decoded.message)
      for (const wake of this.#waiters) wake()
    }
  }

  send(type: string, fields: Record<string, unknown>): void {
    this.port.postMessage({ frame: encodeFrame(type, fields, Date.now(), 'binary') } satisfies Packet)
  }

  /** The first received message matching `match` (bounded wait). */
  next<T extends ServerMessage['type']>(
    type: T,
    match: (message: Extract<ServerMessage, { type: T }>) => boolean = () => true,
    timeoutMs = 5_000,
  ): Promise<Extract<ServerMessage, { type: T }>> {
    const find = () =>
      this.#received.find(
        (message): message is Extract<ServerMessage, { type: T }> =>
          message.type === type && match(message as Extract<ServerMessage, { type: T }>),
      )
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = find()
        if (!found) return
        this.#waiters.delete(check)
        clearTimeout(timer)
        resolve(found)
      }
      const timer = setTimeout(() => {
        this.#waiters.delete(check)
        reject(new Error(`${this.name} got no ${type} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.#waiters.add(check)
      check()
    })
  }
}

function connect(sync: SyncServer, name: string): PortClient {
  const { port1, port2 } = new MessageChannel()
  servePort(sync, port1, name)
  return new PortClient(name, port2)
}

// ---------------------------------------------------------------- run

async function main(): Promise<void> {
  const sync = createSyncServer({ auth: { required: false } }) // anonymous, in-memory
  const alice = connect(sync, 'alice')
  const bob = connect(sync, 'bob')
  const documentId = 'todo-1'

  for (const client of [alice, bob]) {
    client.send('subscribe', { documentId })
    const response = await client.next('sync_response', (m) => m.documentId === documentId)
    console.log(`${client.name} <- sync_response ${documentId} state=${JSON.stringify(response.state)}`)
  }

  alice.send('delta_batch', {
    documentId,
    messageId: 'm-1',
    deltas: [
      {
        type: 'set',
        field: 'title',
        value: 'Buy milk',
        clock: { 'client-alice': 1 },
        clientId: 'client-alice',
        timestamp: Date.now(),
      },
    ],
  })
  // Every subscriber gets the echo, the writer included.
  for (const client of [alice, bob]) {
    const echo = await client.next('delta', (m) => m.documentId === documentId && m.field === 'title')
    console.log(`${client.name} <- delta ${documentId}.${echo.field} = ${JSON.stringify(echo.value)}`)
  }
  const ack = await alice.next('ack', (m) => m.messageId === 'm-1')
  console.log(`alice <- ack ${ack.messageId}`)

  // Graceful shutdown: pending work is flushed, then every connection is closed with 1001.
  await sync.close()
  for (const client of [alice, bob]) {
    const { code, reason } = await client.closed
    console.log(`${client.name} <- close ${code} ${reason}`)
  }
  console.log(`custom transport: ok (${sync.stats().connections} connections left)`)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
