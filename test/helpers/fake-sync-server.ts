import type { AddressInfo } from 'node:net'
import { type WebSocket, WebSocketServer } from 'ws'
import { encodeFrame, parseFrame } from '../../src/protocol/index.js'
import type { JsonObject, JsonValue, VectorClock, WireFormat } from '../../src/protocol/types.js'
import { waitFor } from './wait-for.js'

/** One frame a client sent, split by the real protocol parser. */
export interface ReceivedFrame {
  conn: number
  type: string
  fields: Record<string, unknown>
  timestamp: number
  format: WireFormat
}

/** Which replies the fake sends on its own; each can be switched off per test. */
export interface AutoReply {
  auth: boolean
  sync: boolean
  ack: boolean
  echo: boolean
  pong: boolean
}

/**
 * A tiny SyncKit-speaking server built directly on `ws`, for asserting exactly what a client sends.
 * It keeps one LWW-by-arrival map per document and answers like the reference server (echo to all
 * subscribers, sender included, then ack), unless a test turns a reply off and scripts it instead.
 */
export class FakeSyncServer {
  readonly frames: ReceivedFrame[] = []
  readonly sockets: WebSocket[] = []
  auto: AutoReply = { auth: true, sync: true, ack: true, echo: true, pong: true }
  readonly docs = new Map<string, Map<string, JsonValue>>()
  private readonly subscribers = new Map<string, Set<WebSocket>>()
  private seq = 0
  /** Bumped per applied write: the fake's document clock is `{'fake-node': version}`. */
  private version = 0
  private constructor(
    private readonly wss: WebSocketServer,
    readonly port: number,
  ) {}

  static async start(port = 0): Promise<FakeSyncServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port })
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve)
      wss.once('error', reject)
    })
    const server = new FakeSyncServer(wss, (wss.address() as AddressInfo).port)
    wss.on('connection', (ws) => server.accept(ws))
    return server
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`
  }

  framesOf(type: string): ReceivedFrame[] {
    return this.frames.filter((frame) => frame.type === type)
  }

  waitForFrame(type: string, count = 1, timeoutMs = 3000): Promise<ReceivedFrame[]> {
    return waitFor(() => this.framesOf(type).length >= count && this.framesOf(type), {
      timeoutMs,
      message: `${count} "${type}" frame(s)`,
    })
  }

  waitForConnections(count: number, timeoutMs = 3000): Promise<WebSocket[]> {
    return waitFor(() => this.sockets.length >= count && this.sockets, {
      timeoutMs,
      message: `${count} connection(s)`,
    })
  }

  send(
    ws: WebSocket | undefined,
    type: string,
    fields: Record<string, unknown>,
    format: WireFormat = 'binary',
  ): void {
    if (!ws) throw new Error('no socket')
    ws.send(encodeFrame(type, { id: `srv-${++this.seq}`, ...fields }, Date.now(), format))
  }

  sendRaw(ws: WebSocket | undefined, data: string | Uint8Array): void {
    ws?.send(data)
  }

  /** The latest connection. */
  get last(): WebSocket | undefined {
    return this.sockets.at(-1)
  }

  /** Cut every client connection abruptly (no close frame), as a crash or network loss would. */
  dropAll(): void {
    for (const ws of this.sockets) ws.terminate()
  }

  close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate()
    return new Promise((resolve) => this.wss.close(() => resolve()))
  }

  private accept(ws: WebSocket): void {
    const conn = this.sockets.length
    this.sockets.push(ws)
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const parsed = parseFrame(isBinary ? new Uint8Array(data) : data.toString('utf8'))
      if (!parsed.ok) {
        // Recorded rather than thrown: tests assert that no such frame ever appears.
        this.frames.push({ conn, type: '<invalid>', fields: {}, timestamp: 0, format: parsed.format })
        return
      }
      const frame = {
        conn,
        type: parsed.type,
        fields: parsed.fields,
        timestamp: parsed.timestamp,
        format: parsed.format,
      }
      this.frames.push(frame)
      this.reply(ws, frame)
    })
    ws.on('close', () => {
      for (const set of this.subscribers.values()) set.delete(ws)
    })
  }

  private reply(ws: WebSocket, frame: ReceivedFrame): void {
    const f = frame.fields
    const documentId = typeof f.documentId === 'string' ? f.documentId : ''
    switch (frame.type) {
      case 'auth':
        if (this.auto.auth) this.send(ws, 'auth_success', { userId: 'anonymous' })
        return
      case 'ping':
        if (this.auto.pong) this.send(ws, 'pong', {})
        return
      case 'subscribe':
      case 'sync_request':
        this.subscribe(ws, documentId)
        if (this.auto.sync) {
          this.send(ws, 'sync_response', {
            requestId: typeof f.id === 'string' ? f.id : `srv-${this.seq + 1}`,
            documentId,
            state: Object.fromEntries(this.doc(documentId)),
            clock: this.clock(),
            deltas: [],
          })
        }
        return
      case 'delta_batch':
      case 'delta': {
        this.subscribe(ws, documentId)
        const writes: Array<[string, JsonValue]> =
          frame.type === 'delta'
            ? Object.entries((f.delta ?? {}) as JsonObject)
            : (f.deltas as JsonObject[]).map((op) => [String(op.field), op.value as JsonValue])
        for (const [field, value] of writes) this.doc(documentId).set(field, value)
        this.version += writes.length
        if (this.auto.echo) {
          for (const [field, value] of writes) {
            for (const sub of this.subscribers.get(documentId) ?? []) {
              this.send(sub, 'delta', { documentId, field, value, clock: this.clock(), clientId: 'server' })
            }
          }
        }
        const messageId = f.messageId ?? f.id
        if (this.auto.ack && typeof messageId === 'string') this.send(ws, 'ack', { messageId })
        return
      }
      default:
        return
    }
  }

  private subscribe(ws: WebSocket, documentId: string): void {
    const set = this.subscribers.get(documentId) ?? new Set()
    this.subscribers.set(documentId, set)
    set.add(ws)
  }

  doc(documentId: string): Map<string, JsonValue> {
    const doc = this.docs.get(documentId) ?? new Map<string, JsonValue>()
    this.docs.set(documentId, doc)
    return doc
  }

  private clock(): VectorClock {
    return { 'fake-node': this.version }
  }
}
