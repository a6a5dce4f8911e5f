import { WebSocket } from 'ws'
import { DEFAULT_WAIT_MS, waitFor, within } from './wait.js'

/**
 * A black-box protocol client for the conformance suite. It builds and reads frames by hand
 * (docs/protocol.md §2.1, §2.2), independently of src/protocol, so a codec bug on the server cannot be
 * masked by the same bug here. It speaks both client dialects:
 *
 * - `sdk` (docs/protocol.md §10.1): no `auth`, `subscribe`, writes through `delta_batch` field ops,
 *   payloads without `id`, awareness;
 * - `legacy` (docs/protocol.md §10.3): `auth` without a token, `sync_request {id}` to subscribe, writes
 *   through `delta {delta: {field: value}, vectorClock: {}}`, acks every received delta, answers
 *   server pings;
 *
 * in binary frames (13-byte header + JSON) or JSON text frames.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export type JsonObject = { [key: string]: Json }

export type Dialect = 'sdk' | 'legacy'
export type Encoding = 'binary' | 'json'
export interface ClientKind {
  dialect: Dialect
  encoding: Encoding
}

export const ALL_KINDS: readonly ClientKind[] = [
  { dialect: 'sdk', encoding: 'binary' },
  { dialect: 'sdk', encoding: 'json' },
  { dialect: 'legacy', encoding: 'binary' },
  { dialect: 'legacy', encoding: 'json' },
]

export const kindName = (kind: ClientKind): string => `${kind.dialect}/${kind.encoding}`

/** docs/protocol.md §3.1. */
export const TYPE_CODES: Readonly<Record<string, number>> = {
  auth: 0x01,
  auth_success: 0x02,
  auth_error: 0x03,
  subscribe: 0x10,
  unsubscribe: 0x11,
  sync_request: 0x12,
  sync_response: 0x13,
  sync_step1: 0x14,
  sync_step2: 0x15,
  delta: 0x20,
  ack: 0x21,
  delta_batch_chunk: 0x23,
  ping: 0x30,
  pong: 0x31,
  awareness_update: 0x40,
  awareness_subscribe: 0x41,
  awareness_state: 0x42,
  delta_batch: 0x50,
  error: 0xff,
}
const TYPE_BY_CODE = new Map(Object.entries(TYPE_CODES).map(([type, code]) => [code, type]))

export const HEADER_BYTES = 13

/** A received frame, decoded. `payload` holds every field but `type` (and the JSON `timestamp`). */
export interface Frame {
  type: string
  binary: boolean
  timestamp: number | undefined
  payload: JsonObject
}

/** 13-byte header (uint8 code, int64 BE ms, uint32 BE length) + UTF-8 JSON payload. */
export function binaryFrame(type: string, payload: JsonObject, timestamp = Date.now()): Buffer {
  const code = TYPE_CODES[type]
  if (code === undefined) throw new Error(`no binary code for message type ${type}`)
  const body = Buffer.from(JSON.stringify(payload), 'utf8')
  const frame = Buffer.alloc(HEADER_BYTES + body.length)
  frame.writeUInt8(code, 0)
  frame.writeBigInt64BE(BigInt(timestamp), 1)
  frame.writeUInt32BE(body.length, 9)
  body.copy(frame, HEADER_BYTES)
  return frame
}

export function jsonFrame(type: string, payload: JsonObject, timestamp = Date.now()): string {
  return JSON.stringify({ type, timestamp, ...payload })
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Throws on anything that is not a well-formed server frame. */
export function decodeFrame(data: Buffer, isBinary: boolean): Frame {
  if (!isBinary) {
    const object: unknown = JSON.parse(data.toString('utf8'))
    if (!isJsonObject(object) || typeof object.type !== 'string') throw new Error('JSON frame without type')
    const { type, timestamp, ...payload } = object
    return { type, binary: false, timestamp: typeof timestamp === 'number' ? timestamp : undefined, payload }
  }
  if (data.length < HEADER_BYTES) throw new Error(`binary frame of ${data.length} bytes`)
  const code = data.readUInt8(0)
  const length = data.readUInt32BE(9)
  if (HEADER_BYTES + length > data.length) throw new Error('binary frame shorter than its header says')
  const payload: unknown = JSON.parse(data.subarray(HEADER_BYTES, HEADER_BYTES + length).toString('utf8'))
  if (!isJsonObject(payload)) throw new Error('binary payload is not an object')
  // The header code is the type (a C#-style payload `type` is ignored, as clients do).
  const { type: _ignored, ...rest } = payload
  return {
    type: TYPE_BY_CODE.get(code) ?? `unknown(0x${code.toString(16)})`,
    binary: true,
    timestamp: Number(data.readBigInt64BE(1)),
    payload: rest,
  }
}

function describeFrame(frame: Frame): string {
  const text = JSON.stringify(frame.payload)
  return `${frame.type}${frame.binary ? '' : '(text)'} ${text.length > 140 ? `${text.slice(0, 140)}…` : text}`
}

export interface WaitOptions {
  /** Only frames received at or after this index (see `mark()`). */
  from?: number
  timeoutMs?: number
}

let clientSerial = 0

export class ConformanceClient {
  readonly frames: Frame[] = []
  /** Frames the client could not decode, and replies in the wrong encoding. */
  readonly violations: string[] = []
  readonly label: string
  /** The SDK dialect's client id (awareness, op `clientId` and clock key); sorts before `server`. */
  readonly clientId: string
  closeEvent: { code: number; reason: string } | undefined
  readonly #ws: WebSocket
  readonly #closed: Promise<{ code: number; reason: string }>
  #seq = 0
  #clock = 0

  private constructor(
    ws: WebSocket,
    readonly name: string,
    readonly kind: ClientKind,
  ) {
    this.#ws = ws
    this.label = `client '${name}' (${kindName(kind)})`
    this.clientId = `client-${name}-${++clientSerial}`
    ws.on('message', (data: Buffer, isBinary: boolean) => this.#onMessage(data, isBinary))
    ws.on('error', () => {
      // `close` follows; the close event records what happened.
    })
    this.#closed = new Promise((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => {
        this.closeEvent = { code, reason: reason.toString('utf8') }
        resolve(this.closeEvent)
      })
    })
  }

  /** Opens a socket (with extra upgrade `headers`); fails (bounded) with the reason the handshake failed. */
  static async open(
    url: string,
    name: string,
    kind: ClientKind,
    timeoutMs = DEFAULT_WAIT_MS,
    headers?: Record<string, string>,
  ): Promise<ConformanceClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false, ...(headers ? { headers } : {}) })
    const client = new ConformanceClient(ws, name, kind)
    const opened = new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', (error) =>
        reject(new Error(`${client.label} could not connect to ${url}: ${error.message}`)),
      )
      ws.once('close', (code) => reject(new Error(`${client.label} closed (${code}) before opening`)))
    })
    try {
      await within(opened, timeoutMs, `${client.label} opening ${url}`)
    } catch (error) {
      ws.terminate()
      throw error
    }
    return client
  }

  get readyState(): number {
    return this.#ws.readyState
  }

  get socket(): WebSocket {
    return this.#ws
  }

  // ---------------------------------------------------------------- sending

  /** Sends `type` in this client's encoding. Legacy clients add an `id` (returned). */
  send(type: string, fields: JsonObject = {}): string | undefined {
    const id = this.kind.dialect === 'legacy' && fields.id === undefined ? this.nextId(type) : undefined
    const payload: JsonObject = id === undefined ? fields : { id, ...fields }
    this.sendRaw(this.kind.encoding === 'binary' ? binaryFrame(type, payload) : jsonFrame(type, payload))
    return typeof payload.id === 'string' ? payload.id : undefined
  }

  sendRaw(data: string | Uint8Array): void {
    this.#ws.send(data)
  }

  nextId(prefix = 'msg'): string {
    return `${this.name}-${prefix}-${++this.#seq}`
  }

  // ---------------------------------------------------------------- receiving

  /** Index of the next frame to arrive, for `{from}`. */
  mark(): number {
    return this.frames.length
  }

  framesOf(type: string, from = 0): Frame[] {
    return this.frames.slice(from).filter((frame) => frame.type === type)
  }

  /** The first frame (from `from`) matching `match`; fails naming this client and `what`. */
  waitFrame(what: string, match: (frame: Frame) => boolean, options: WaitOptions = {}): Promise<Frame> {
    const from = options.from ?? 0
    return waitFor(
      () => this.frames.slice(from).find(match),
      options.timeoutMs,
      () => this.#missing(what, from),
    )
  }

  /** `count` frames matching `match`. */
  waitFrames(
    what: string,
    match: (frame: Frame) => boolean,
    count: number,
    options: WaitOptions = {},
  ): Promise<Frame[]> {
    const from = options.from ?? 0
    return waitFor(
      () => {
        const found = this.frames.slice(from).filter(match)
        return found.length >= count ? found : undefined
      },
      options.timeoutMs,
      () => this.#missing(`${count} × ${what}`, from),
    )
  }

  /** The socket closed (by the server, or after `close()`). */
  async closed(timeoutMs = DEFAULT_WAIT_MS): Promise<{ code: number; reason: string }> {
    return within(this.#closed, timeoutMs, `${this.label} seeing its socket close`)
  }

  pause(): void {
    this.#ws.pause()
  }

  resume(): void {
    this.#ws.resume()
  }

  close(): void {
    if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CONNECTING) {
      this.#ws.close(1000, 'done')
    }
  }

  terminate(): void {
    this.#ws.terminate()
  }

  // ---------------------------------------------------------------- dialect steps

  /** Legacy: `auth` without a token → `auth_success`. SDK: nothing (anonymous auto-auth). */
  async handshake(): Promise<Frame | undefined> {
    if (this.kind.dialect === 'sdk') return undefined
    const from = this.mark()
    this.send('auth', {})
    return this.waitFrame('auth_success', (frame) => frame.type === 'auth_success', { from })
  }

  /** SDK: `subscribe`; legacy: `sync_request {id}`. Resolves with the `sync_response`. */
  async join(documentId: string, extra: JsonObject = {}): Promise<Frame> {
    const from = this.mark()
    const id = this.send(this.kind.dialect === 'sdk' ? 'subscribe' : 'sync_request', { documentId, ...extra })
    return this.waitFrame(
      `sync_response for ${documentId}${id ? ` (requestId ${id})` : ''}`,
      (frame) =>
        frame.type === 'sync_response' &&
        frame.payload.documentId === documentId &&
        (id === undefined || frame.payload.requestId === id),
      { from },
    )
  }

  /** `sync_request` in either dialect (the SDK has one too: `requestSync()`). */
  async syncRequest(documentId: string, vectorClock?: Record<string, number>): Promise<Frame> {
    const from = this.mark()
    const id = this.nextId('sync')
    this.send('sync_request', { id, documentId, ...(vectorClock ? { vectorClock } : {}) })
    return this.waitFrame(
      `sync_response with requestId ${id} for ${documentId}`,
      (frame) => frame.type === 'sync_response' && frame.payload.requestId === id,
      { from },
    )
  }

  /**
   * Writes fields (a `{__deleted: true}` value deletes) in this dialect. Returns the id the
   * server must acknowledge.
   */
  write(documentId: string, fields: JsonObject): string {
    if (this.kind.dialect === 'legacy') {
      const id = this.nextId('delta')
      this.send('delta', { id, documentId, delta: fields, vectorClock: {} })
      return id
    }
    const messageId = this.nextId('batch')
    const deltas: Json[] = Object.entries(fields).map(([field, value]) => ({
      type: 'set',
      documentId,
      field,
      value,
      clock: { [this.clientId]: ++this.#clock },
      clientId: this.clientId,
      timestamp: Date.now(),
    }))
    this.send('delta_batch', { documentId, deltas, messageId })
    return messageId
  }

  /** Writes and waits for the `ack`. */
  async writeAcked(documentId: string, fields: JsonObject, timeoutMs?: number): Promise<Frame> {
    const from = this.mark()
    const messageId = this.write(documentId, fields)
    return this.waitFrame(
      `ack for ${messageId}`,
      (frame) => frame.type === 'ack' && frame.payload.messageId === messageId,
      { from, ...(timeoutMs ? { timeoutMs } : {}) },
    )
  }

  /** Field echoes (`delta {documentId, field, value, clock, clientId}`) received for a document. */
  echoes(documentId: string, from = 0): Frame[] {
    return this.frames
      .slice(from)
      .filter((frame) => frame.type === 'delta' && frame.payload.documentId === documentId)
  }

  /** The value of the last echo of `field`, or `undefined` if none arrived. */
  lastEcho(documentId: string, field: string, from = 0): { value: Json | undefined } | undefined {
    const echoes = this.echoes(documentId, from).filter((frame) => frame.payload.field === field)
    const last = echoes[echoes.length - 1]
    return last ? { value: last.payload.value } : undefined
  }

  /** Waits for an echo of `field` with exactly `value` (compared as JSON). */
  waitEcho(documentId: string, field: string, value: Json, options: WaitOptions = {}): Promise<Frame> {
    const expected = JSON.stringify(value)
    return this.waitFrame(
      `echo ${documentId}.${field} = ${expected}`,
      (frame) =>
        frame.type === 'delta' &&
        frame.payload.documentId === documentId &&
        frame.payload.field === field &&
        JSON.stringify(frame.payload.value) === expected,
      options,
    )
  }

  waitError(what: string, message: string | RegExp, options: WaitOptions = {}): Promise<Frame> {
    return this.waitFrame(
      `error ${what} (${String(message)})`,
      (frame) =>
        frame.type === 'error' &&
        typeof frame.payload.error === 'string' &&
        (typeof message === 'string' ? frame.payload.error === message : message.test(frame.payload.error)),
      options,
    )
  }

  // ---------------------------------------------------------------- internals

  #onMessage(data: Buffer, isBinary: boolean): void {
    let frame: Frame
    try {
      frame = decodeFrame(data, isBinary)
    } catch (error) {
      this.violations.push(`undecodable ${isBinary ? 'binary' : 'text'} frame: ${String(error)}`)
      return
    }
    const expectBinary = this.kind.encoding === 'binary'
    if (frame.binary !== expectBinary) {
      this.violations.push(
        `${frame.type} arrived as a ${frame.binary ? 'binary' : 'text'} frame, expected ${this.kind.encoding}`,
      )
    }
    this.frames.push(frame)
    if (this.kind.dialect !== 'legacy') return
    // The legacy client acks every delta that has an id, and answers server pings.
    if (frame.type === 'delta' && typeof frame.payload.id === 'string') {
      this.send('ack', { messageId: frame.payload.id })
    } else if (frame.type === 'ping') {
      this.send('pong', {})
    }
  }

  #missing(what: string, from: number): string {
    const seen = this.frames.slice(from)
    const tail = seen.slice(-8).map(describeFrame)
    const state =
      this.closeEvent !== undefined
        ? `socket closed ${this.closeEvent.code} ${JSON.stringify(this.closeEvent.reason)}`
        : `socket ${['connecting', 'open', 'closing', 'closed'][this.#ws.readyState] ?? 'unknown'}`
    return (
      `${this.label} lacked ${what}; ${state}; received ${seen.length} frame(s)` +
      (tail.length > 0 ? `, last: [${tail.join(' | ')}]` : '')
    )
  }
}

/** Opens clients for one test and closes them all afterwards. */
export class ClientPool {
  readonly #clients: ConformanceClient[] = []

  /** `diagnostics`: appended to connection failures (e.g. a spawned runtime's stderr). */
  constructor(
    readonly url: () => string,
    readonly diagnostics: () => string = () => '',
  ) {}

  async open(name: string, kind: ClientKind): Promise<ConformanceClient> {
    let client: ConformanceClient
    try {
      client = await ConformanceClient.open(this.url(), name, kind)
    } catch (error) {
      throw new Error(`${(error as Error).message}${this.diagnostics()}`)
    }
    this.#clients.push(client)
    return client
  }

  /** Opens and completes the dialect's handshake. */
  async connect(name: string, kind: ClientKind): Promise<ConformanceClient> {
    const client = await this.open(name, kind)
    await client.handshake()
    return client
  }

  /** Protocol violations seen by any client of this test (wrong encoding, undecodable frames). */
  violations(): string[] {
    return this.#clients.flatMap((client) => client.violations.map((v) => `${client.label}: ${v}`))
  }

  async closeAll(): Promise<void> {
    const clients = this.#clients.splice(0)
    for (const client of clients) {
      client.resume()
      client.close()
    }
    await Promise.all(
      clients.map((client) =>
        client.closed(2_000).catch(() => {
          client.terminate()
        }),
      ),
    )
  }
}
