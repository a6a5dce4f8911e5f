import { WebSocket } from 'ws'

/** A raw `ws` client speaking hand-built SyncKit frames (independent of src/protocol). */

export const CODES = {
  auth: 0x01,
  auth_success: 0x02,
  subscribe: 0x10,
  sync_response: 0x13,
  delta: 0x20,
  ack: 0x21,
  ping: 0x30,
  pong: 0x31,
  error: 0xff,
} as const

/** 13-byte header: uint8 type, int64 BE timestamp, uint32 BE payload length; UTF-8 JSON payload. */
export function binaryFrame(code: number, payload: Record<string, unknown>, timestamp = Date.now()): Buffer {
  const body = Buffer.from(JSON.stringify(payload), 'utf8')
  const frame = Buffer.alloc(13 + body.length)
  frame.writeUInt8(code, 0)
  frame.writeBigInt64BE(BigInt(timestamp), 1)
  frame.writeUInt32BE(body.length, 9)
  body.copy(frame, 13)
  return frame
}

export interface Received {
  binary: boolean
  code?: number
  timestamp?: number
  payload: Record<string, unknown>
}

export function parseFrame(data: Buffer, isBinary: boolean): Received {
  if (!isBinary) return { binary: false, payload: JSON.parse(data.toString('utf8')) }
  const length = data.readUInt32BE(9)
  return {
    binary: true,
    code: data.readUInt8(0),
    timestamp: Number(data.readBigInt64BE(1)),
    payload: JSON.parse(data.subarray(13, 13 + length).toString('utf8')),
  }
}

export class RawClient {
  readonly received: Received[] = []
  closeEvent: { code: number; reason: string } | undefined
  readonly opened: Promise<void>
  readonly closed: Promise<{ code: number; reason: string }>

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => this.received.push(parseFrame(data, isBinary)))
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    this.closed = new Promise((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => {
        this.closeEvent = { code, reason: reason.toString() }
        resolve(this.closeEvent)
      })
    })
  }

  static async connect(url: string, headers?: Record<string, string>): Promise<RawClient> {
    const client = new RawClient(new WebSocket(url, headers ? { headers } : {}))
    await client.opened
    return client
  }

  send(code: number, payload: Record<string, unknown>): void {
    this.ws.send(binaryFrame(code, payload))
  }

  sendJson(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message))
  }

  /** Resolves with the first received frame matching `match`; fails after `timeoutMs`. */
  async next(match: (frame: Received) => boolean, timeoutMs = 3_000): Promise<Received> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.received.find(match)
      if (found) return found
      if (Date.now() > deadline) throw new Error('timed out waiting for a frame')
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }

  close(): void {
    this.ws.close()
  }
}

export const withCode = (code: number) => (frame: Received) => frame.code === code
export const withType = (type: string) => (frame: Received) => frame.payload.type === type
