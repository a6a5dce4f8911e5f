import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { CONFORMANCE_LIMITS } from '../runtimes/fixture-options.js'
import {
  ALL_KINDS,
  binaryFrame,
  type ClientKind,
  ClientPool,
  type ConformanceClient,
  type Frame,
  HEADER_BYTES,
  type Json,
  type JsonObject,
  kindName,
} from './client.js'
import { waitFor, within } from './wait.js'

/**
 * The transport conformance suite: one black-box run over real sockets, the same on every
 * runtime (ws, node:http, Bun, Deno). The server under test must run with
 * `test/runtimes/fixture-options.ts` (`CONFORMANCE_OPTIONS`), whose limits the suite relies on.
 */

export interface ConformanceTarget {
  /** `ws://127.0.0.1:<port>/ws` */
  url: string
  /** `http://127.0.0.1:<port>` */
  httpUrl: string
  /** Graceful stop (sockets closed with 1001). Called at most once by the suite. */
  stop(): Promise<void>
  /** Context for failures, e.g. the stderr of a spawned runtime. */
  diagnostics?(): string
}

const SDK_BINARY: ClientKind = { dialect: 'sdk', encoding: 'binary' }
const SDK_JSON: ClientKind = { dialect: 'sdk', encoding: 'json' }
const LEGACY_BINARY: ClientKind = { dialect: 'legacy', encoding: 'binary' }
const LEGACY_JSON: ClientKind = { dialect: 'legacy', encoding: 'json' }

const TOMBSTONE: JsonObject = { __deleted: true }
const SHUTDOWN = { code: 1001, reason: 'Server shutdown' }
const SLOW_CLIENT = { code: 1013, reason: 'Client too slow; reconnect to resync' }

/** The other dialect in the other encoding: every exchange also crosses both boundaries. */
function opposite(kind: ClientKind): ClientKind {
  return {
    dialect: kind.dialect === 'sdk' ? 'legacy' : 'sdk',
    encoding: kind.encoding === 'binary' ? 'json' : 'binary',
  }
}

let documentSerial = 0
function documentId(label: string): string {
  return `conf-${label}-${Date.now().toString(36)}-${++documentSerial}`
}

function isClock(value: Json | undefined): value is Record<string, number> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length > 0 &&
    Object.values(value).every((entry) => typeof entry === 'number' && Number.isFinite(entry))
  )
}

function objectOf(frame: Frame, key: string): JsonObject {
  const value = frame.payload[key]
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${frame.type}.${key} is not an object: ${JSON.stringify(value)}`)
  }
  return value
}

/** Every server message carries an `id` and a non-zero timestamp (docs/protocol.md §2.1, §2.2, §2.4). */
function expectEnvelope(client: ConformanceClient, frame: Frame): void {
  expect(typeof frame.payload.id, `${client.label}: ${frame.type} has a string id`).toBe('string')
  expect(frame.timestamp, `${client.label}: ${frame.type} has a timestamp`).toBeGreaterThan(0)
}

function expectEcho(client: ConformanceClient, frame: Frame, documentId: string): void {
  expect(frame.payload.documentId, `${client.label}: echo documentId`).toBe(documentId)
  expect(frame.payload.clientId, `${client.label}: echo clientId`).toBe('server')
  expect(
    isClock(frame.payload.clock),
    `${client.label}: echo clock ${JSON.stringify(frame.payload.clock)}`,
  ).toBe(true)
}

/**
 * Writes 40 frames of 20 fields of 8 KiB (about 6.5 MB, 12 times the hard limit), each acked;
 * returns the number of fields.
 */
async function writeLargeDocument(writer: ConformanceClient, documentId: string): Promise<number> {
  const value = 'v'.repeat(8 * 1024)
  const frames = 40
  const fieldsPerFrame = 20
  for (let frame = 0; frame < frames; frame++) {
    const fields: JsonObject = {}
    for (let i = 0; i < fieldsPerFrame; i++) fields[`f${frame}-${i}`] = value
    await writer.writeAcked(documentId, fields)
  }
  expect(frames * fieldsPerFrame * value.length).toBeGreaterThan(12 * CONFORMANCE_LIMITS.hardLimit)
  return frames * fieldsPerFrame
}

/** Sum of every series of a Prometheus metric, or undefined when it is absent. */
export function metricValue(text: string, name: string): number | undefined {
  let total: number | undefined
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line)
    if (!match || match[1] !== name) continue
    total = (total ?? 0) + Number(match[3])
  }
  return total
}

export interface ConformanceSuiteOptions {
  /**
   * `smoke`: the handshake, acks and echoes for every client kind, LWW convergence, presence, the
   * HTTP routes and the shutdown; for mounts that reuse a transport the full suite already checks
   * (Express, Fastify, Hono on the node:http adapter). Default `full`.
   */
  subset?: 'full' | 'smoke'
  /**
   * False for transports that expose no send buffer (workerd: `send` neither reports nor bounds
   * what the platform still holds). The server then cannot see a stalled reader, and the suite
   * checks the platform's own behaviour instead: the reader gets every frame once it reads again,
   * and nobody else is held up. Default true.
   */
  sendBuffer?: boolean
}

type TestBody = () => Promise<void>

export function defineConformanceSuite(
  name: string,
  start: () => Promise<ConformanceTarget>,
  options: ConformanceSuiteOptions = {},
): void {
  const complete = options.subset !== 'smoke'
  const smoke = (title: string, body: TestBody, timeoutMs?: number): void => it(title, body, timeoutMs)
  const full = (title: string, body: TestBody, timeoutMs?: number): void => {
    if (complete) it(title, body, timeoutMs)
  }
  const hasSendBuffer = options.sendBuffer !== false
  const withSendBuffer = (title: string, body: TestBody, timeoutMs?: number): void => {
    if (hasSendBuffer) full(title, body, timeoutMs)
  }
  const withoutSendBuffer = (title: string, body: TestBody, timeoutMs?: number): void => {
    if (!hasSendBuffer) full(title, body, timeoutMs)
  }
  describe(`transport conformance: ${name}${complete ? '' : ' (smoke)'}`, () => {
    let target: ConformanceTarget | undefined
    let stopped: Promise<void> | undefined
    const stop = (): Promise<void> => {
      stopped ??= target ? target.stop() : Promise.resolve()
      return stopped
    }
    const running = (): ConformanceTarget => {
      if (!target) throw new Error(`${name}: the server did not start`)
      return target
    }
    const diagnostics = (): string => target?.diagnostics?.() ?? ''
    const pool = new ClientPool(() => running().url, diagnostics)
    const http = async (path: string, init?: RequestInit): Promise<Response> => {
      try {
        return await within(
          fetch(`${running().httpUrl}${path}`, init),
          10_000,
          `${name}: HTTP ${init?.method ?? 'GET'} ${path}`,
        )
      } catch (error) {
        throw new Error(`${(error as Error).message}${diagnostics()}`)
      }
    }
    const scrapeMetrics = async (): Promise<string> => (await http('/metrics')).text()

    beforeAll(async () => {
      target = await start()
    }, 60_000)

    afterEach(async () => {
      const violations = pool.violations()
      await pool.closeAll()
      expect(violations, 'frames in the wrong encoding or undecodable').toEqual([])
    })

    afterAll(async () => {
      await pool.closeAll()
      await stop()
    }, 30_000)

    // ------------------------------------------------------------ per client kind

    for (const kind of ALL_KINDS) {
      describe(`${kindName(kind)} client`, () => {
        smoke(
          'handshakes: auth_success for the legacy dialect, anonymous auto-auth for the SDK',
          async () => {
            const client = await pool.open('hello', kind)
            const success = await client.handshake()
            if (kind.dialect === 'legacy') {
              if (!success) throw new Error('no auth_success')
              expect(typeof success.payload.userId, `${client.label}: auth_success.userId`).toBe('string')
              expect(String(success.payload.userId).length).toBeGreaterThan(0)
              expectEnvelope(client, success)
            }
            // The SDK never authenticates: its first frame is a subscribe, answered at once.
            const doc = documentId('handshake')
            await client.join(doc)
            expect(
              client.frames
                .filter((f) => f.type === 'error' || f.type === 'auth_error')
                .map((f) => f.payload),
              `${client.label}: no error during the handshake`,
            ).toEqual([])
          },
        )

        full(
          'answers subscribe / sync_request with a sync_response: requestId, state, non-empty clock',
          async () => {
            const client = await pool.connect('reader', kind)
            const doc = documentId('subscribe')
            const from = client.mark()
            const id = client.nextId('join')
            client.send(kind.dialect === 'sdk' ? 'subscribe' : 'sync_request', { id, documentId: doc })
            const response = await client.waitFrame('sync_response', (f) => f.type === 'sync_response', {
              from,
            })
            expectEnvelope(client, response)
            expect(response.payload.requestId, `${client.label}: requestId echoes the request id`).toBe(id)
            expect(response.payload.documentId).toBe(doc)
            expect(response.payload.state, `${client.label}: state of a new document`).toEqual({})
            expect(Array.isArray(response.payload.deltas), `${client.label}: deltas is an array`).toBe(true)
            expect(
              isClock(response.payload.clock),
              `${client.label}: non-empty clock ${JSON.stringify(response.payload.clock)}`,
            ).toBe(true)
          },
        )

        smoke('acks writes and echoes them to every subscriber, the writer included', async () => {
          const doc = documentId('echo')
          const writer = await pool.connect('writer', kind)
          const peer = await pool.connect('peer', kind)
          const cross = await pool.connect('cross', opposite(kind))
          for (const client of [writer, peer, cross]) await client.join(doc)
          const fields: JsonObject = {
            title: 'hello',
            count: 3,
            done: false,
            tags: ['a', 'b'],
            nested: { x: 1 },
          }
          const ack = await writer.writeAcked(doc, fields)
          expectEnvelope(writer, ack)
          for (const client of [writer, peer, cross]) {
            for (const [field, value] of Object.entries(fields)) {
              const echo = await client.waitEcho(doc, field, value)
              expectEcho(client, echo, doc)
              expectEnvelope(client, echo)
            }
          }
          const fresh = await pool.connect('fresh', kind)
          expect(
            (await fresh.syncRequest(doc)).payload.state,
            `${fresh.label}: state after the writes`,
          ).toEqual(fields)
        })

        full('echoes deletes as tombstones and round-trips null values', async () => {
          const doc = documentId('delete')
          const writer = await pool.connect('writer', kind)
          const peer = await pool.connect('peer', opposite(kind))
          await writer.join(doc)
          await peer.join(doc)
          await writer.writeAcked(doc, { keep: 1, gone: 'x', nothing: null })
          await peer.waitEcho(doc, 'nothing', null)
          await peer.waitEcho(doc, 'gone', 'x')
          await writer.writeAcked(doc, { gone: TOMBSTONE })
          for (const client of [writer, peer]) {
            const echo = await client.waitEcho(doc, 'gone', TOMBSTONE)
            expectEcho(client, echo, doc)
          }
          const fresh = await pool.connect('fresh', kind)
          const state = (await fresh.syncRequest(doc)).payload.state
          expect(state, `${fresh.label}: deleted field absent, null kept`).toEqual({ keep: 1, nothing: null })
        })

        full(
          'resyncs by vector clock: sync_request {vectorClock} returns exactly the missed deltas',
          async () => {
            const doc = documentId('resync')
            const writer = await pool.connect('writer', opposite(kind))
            await writer.join(doc)
            await writer.writeAcked(doc, { before: 1, doomed: 'x' })

            const away = await pool.connect('away', kind)
            const seen = await away.syncRequest(doc)
            expect(seen.payload.state).toEqual({ before: 1, doomed: 'x' })
            const clock = seen.payload.clock
            if (!isClock(clock)) throw new Error(`${away.label}: no clock in ${JSON.stringify(seen.payload)}`)
            away.close()
            await away.closed()

            await writer.writeAcked(doc, { after: 'a', empty: null })
            await writer.writeAcked(doc, { doomed: TOMBSTONE })

            const back = await pool.connect('back', kind)
            const resync = await back.syncRequest(doc, clock)
            const deltas = resync.payload.deltas
            if (!Array.isArray(deltas)) throw new Error(`${back.label}: deltas is not an array`)
            const byField = new Map<string, JsonObject>()
            for (const delta of deltas) {
              if (typeof delta !== 'object' || delta === null || Array.isArray(delta)) {
                throw new Error(`${back.label}: delta is not an object: ${JSON.stringify(delta)}`)
              }
              byField.set(String(delta.field), delta)
            }
            expect(
              [...byField.keys()].sort(),
              `${back.label}: exactly the fields written while away`,
            ).toEqual(['after', 'doomed', 'empty'])
            expect(byField.get('after')?.value).toBe('a')
            expect(byField.get('empty')?.value).toBeNull()
            const doomed = byField.get('doomed')
            expect(
              doomed?.deleted === true || JSON.stringify(doomed?.value) === JSON.stringify(TOMBSTONE),
              `${back.label}: the delete is reported as a tombstone: ${JSON.stringify(doomed)}`,
            ).toBe(true)
            for (const delta of byField.values()) {
              expect(isClock(delta.clock), `${back.label}: delta clock ${JSON.stringify(delta.clock)}`).toBe(
                true,
              )
            }
            expect(resync.payload.state).toEqual({ before: 1, after: 'a', empty: null })

            // Nothing missed: nothing returned.
            const current = resync.payload.clock
            if (!isClock(current)) throw new Error(`${back.label}: no clock in the resync response`)
            expect((await back.syncRequest(doc, current)).payload.deltas).toEqual([])
          },
        )

        full(`answers an application ping with a pong in ${kind.encoding}`, async () => {
          const client = await pool.connect('pinger', kind)
          const from = client.mark()
          client.send('ping', {})
          const pong = await client.waitFrame('pong', (f) => f.type === 'pong', { from })
          expectEnvelope(client, pong)
        })
      })
    }

    // ------------------------------------------------------------ across kinds

    smoke('concurrent writers of every kind converge on one value (LWW)', async () => {
      const doc = documentId('lww')
      const writers = await Promise.all(ALL_KINDS.map((kind, index) => pool.connect(`w${index}`, kind)))
      for (const writer of writers) await writer.join(doc)
      const rounds = 10
      const tags = ['A', 'B', 'C', 'D']
      const acks = writers.map((writer, index) => {
        const from = writer.mark()
        const ids: string[] = []
        for (let round = 0; round < rounds; round++)
          ids.push(writer.write(doc, { winner: `${tags[index]}${round}` }))
        return writer.waitFrames(
          `acks for its ${rounds} writes`,
          (f) => f.type === 'ack' && ids.includes(String(f.payload.messageId)),
          rounds,
          { from },
        )
      })
      await Promise.all(acks)
      const finals = tags.map((tag) => `${tag}${rounds - 1}`)
      const agreed = await waitFor(
        () => {
          const values = writers.map((w) => JSON.stringify(w.lastEcho(doc, 'winner')?.value))
          return values.every((v) => v !== undefined && v === values[0]) ? values[0] : undefined
        },
        10_000,
        () =>
          `every client's last echo of ${doc}.winner to agree; got ${writers
            .map((w) => `${w.label}=${JSON.stringify(w.lastEcho(doc, 'winner')?.value)}`)
            .join(', ')}`,
      )
      const winner: unknown = JSON.parse(agreed)
      expect(finals, 'the winner is some writer’s last write').toContain(winner)
      const check = await pool.connect('check', LEGACY_BINARY)
      expect((await check.syncRequest(doc)).payload.state).toEqual({ winner })
    })

    full(
      'sends an SDK subscriber every existing field again as delta frames after sync_response',
      async () => {
        const doc = documentId('resend')
        const writer = await pool.connect('writer', LEGACY_JSON)
        await writer.writeAcked(doc, { a: 1, b: 'two', c: null })
        for (const kind of [SDK_BINARY, SDK_JSON]) {
          const sdk = await pool.connect('late-sdk', kind)
          const response = await sdk.join(doc)
          expect(response.payload.state).toEqual({ a: 1, b: 'two', c: null })
          const after = sdk.frames.indexOf(response) + 1
          for (const [field, value] of Object.entries({ a: 1, b: 'two', c: null })) {
            const echo = await sdk.waitEcho(doc, field, value, { from: after })
            expectEcho(sdk, echo, doc)
          }
        }
      },
    )

    full('accepts the single-field delta of SDK 0.1.1 and acks its messageId', async () => {
      const doc = documentId('sdk011')
      const client = await pool.connect('sdk011', SDK_BINARY)
      const watcher = await pool.connect('watcher', LEGACY_JSON)
      await client.join(doc)
      await watcher.join(doc)
      const from = client.mark()
      client.send('delta', {
        type: 'set',
        documentId: doc,
        field: 'f',
        value: 'v',
        clock: { [client.clientId]: 1 },
        clientId: client.clientId,
        timestamp: Date.now() - 1_000,
        messageId: 'm-011',
      })
      await client.waitFrame('ack m-011', (f) => f.type === 'ack' && f.payload.messageId === 'm-011', {
        from,
      })
      for (const peer of [client, watcher]) expectEcho(peer, await peer.waitEcho(doc, 'f', 'v'), doc)
    })

    for (const kind of [SDK_BINARY, SDK_JSON]) {
      smoke(`relays awareness join / update / leave (${kindName(kind)})`, async () => {
        const doc = documentId('presence')
        const watcher = await pool.connect('watcher', kind)
        const bob = await pool.connect('bob', kind)
        const carol = await pool.connect('carol', kind === SDK_BINARY ? SDK_JSON : SDK_BINARY)
        const from = watcher.mark()
        watcher.send('awareness_subscribe', { documentId: doc })
        const initial = await watcher.waitFrame('awareness_state', (f) => f.type === 'awareness_state', {
          from,
        })
        expect(initial.payload).toMatchObject({ documentId: doc, states: [] })

        const isUpdate =
          (clientId: string, state: Json) =>
          (f: Frame): boolean =>
            f.type === 'awareness_update' &&
            f.payload.documentId === doc &&
            f.payload.clientId === clientId &&
            JSON.stringify(f.payload.state) === JSON.stringify(state)

        bob.send('awareness_update', {
          documentId: doc,
          clientId: bob.clientId,
          state: { name: 'Bob', cursor: 1 },
          clock: 1,
        })
        for (const client of [watcher, bob]) {
          await client.waitFrame(`bob joining`, isUpdate(bob.clientId, { name: 'Bob', cursor: 1 }))
        }
        bob.send('awareness_update', {
          documentId: doc,
          clientId: bob.clientId,
          state: { name: 'Bob', cursor: 2 },
          clock: 2,
        })
        await watcher.waitFrame('bob moving', isUpdate(bob.clientId, { name: 'Bob', cursor: 2 }))

        const carolFrom = carol.mark()
        carol.send('awareness_subscribe', { documentId: doc })
        const state = await carol.waitFrame('awareness_state', (f) => f.type === 'awareness_state', {
          from: carolFrom,
        })
        expect(state.payload.states, `${carol.label}: bob is present`).toEqual([
          { clientId: bob.clientId, state: { name: 'Bob', cursor: 2 }, clock: 2 },
        ])

        // Explicit leave: state null.
        carol.send('awareness_update', {
          documentId: doc,
          clientId: carol.clientId,
          state: { name: 'C' },
          clock: 1,
        })
        await watcher.waitFrame('carol joining', isUpdate(carol.clientId, { name: 'C' }))
        carol.send('awareness_update', { documentId: doc, clientId: carol.clientId, state: null, clock: 2 })
        await watcher.waitFrame('carol leaving', isUpdate(carol.clientId, null))

        // Implicit leave: the socket closes.
        bob.close()
        await bob.closed()
        await watcher.waitFrame('bob leaving when his socket closed', isUpdate(bob.clientId, null))
      })
    }

    // ------------------------------------------------------------ limits and errors

    full('answers undecodable frames with "Invalid message format", in the client encoding', async () => {
      const binary = await pool.open('garbage-binary', SDK_BINARY)
      const unknownCode = Buffer.alloc(HEADER_BYTES + 2)
      unknownCode.writeUInt8(0x99, 0)
      unknownCode.writeUInt32BE(2, 9)
      unknownCode.write('{}', HEADER_BYTES)
      const badJson = binaryFrame('ping', {})
      badJson.write('{x', HEADER_BYTES)
      const garbage: Buffer[] = [Buffer.from([0x10, 0x00, 0x01]), unknownCode, badJson]
      for (const frame of garbage) binary.sendRaw(frame)
      await binary.waitFrames(
        '"Invalid message format" errors',
        (f) => f.type === 'error' && f.payload.error === 'Invalid message format',
        garbage.length,
      )

      const json = await pool.open('garbage-json', SDK_JSON)
      const texts = ['this is not json', '{"no":"type"}', '[1,2,3]']
      for (const text of texts) json.sendRaw(text)
      await json.waitFrames(
        '"Invalid message format" errors',
        (f) => f.type === 'error' && f.payload.error === 'Invalid message format',
        texts.length,
      )
      // Both connections still work.
      for (const client of [binary, json]) {
        const from = client.mark()
        client.send('ping', {})
        await client.waitFrame('pong after the errors', (f) => f.type === 'pong', { from })
      }
    })

    for (const kind of [SDK_BINARY, LEGACY_JSON]) {
      full(
        `refuses bad document ids with the texts of docs/protocol.md §3.4 (${kindName(kind)})`,
        async () => {
          const client = await pool.connect('bad-ids', kind)
          const cases: [string, string][] = [
            ['has space', 'Document ID contains invalid characters'],
            ['x'.repeat(257), 'Document ID too long'],
            ['', 'Invalid document ID'],
          ]
          for (const [bad, message] of cases) {
            const from = client.mark()
            client.send(kind.dialect === 'sdk' ? 'subscribe' : 'sync_request', { documentId: bad })
            await client.waitError(`for documentId ${JSON.stringify(bad.slice(0, 20))}`, message, { from })
          }
          const from = client.mark()
          client.write('bad/id', { a: 1 })
          await client.waitError('for a write to bad/id', 'Document ID contains invalid characters', { from })
          expect(client.framesOf('sync_response'), `${client.label}: no sync_response for bad ids`).toEqual(
            [],
          )
        },
      )
    }

    full('answers an oversize frame with "Message too large (<n> bytes, max <limit>)"', async () => {
      const max = CONFORMANCE_LIMITS.maxFrameBytes
      const size = max + 40_000
      const binary = await pool.open('big-binary', SDK_BINARY)
      const frame = binaryFrame('delta_batch', { documentId: 'big', deltas: [], pad: '' })
      const padded = Buffer.alloc(size, 0x20)
      frame.copy(padded)
      padded.writeUInt32BE(size - HEADER_BYTES, 9)
      binary.sendRaw(padded)
      const json = await pool.open('big-json', SDK_JSON)
      json.sendRaw(JSON.stringify({ type: 'ping', pad: 'p'.repeat(size - 30) }).padEnd(size, ' '))
      for (const client of [binary, json]) {
        const error = await client.waitError(
          'for the oversize frame',
          `Message too large (${size} bytes, max ${max})`,
        )
        expect(objectOf(error, 'details').code, `${client.label}: error code`).toBe('INVALID_MESSAGE')
        const from = client.mark()
        client.send('ping', {})
        await client.waitFrame('pong after the oversize frame', (f) => f.type === 'pong', { from })
      }
    })

    full('refuses a frame far above the limit without harm (close 1009 or "Message too large")', async () => {
      const size = CONFORMANCE_LIMITS.maxFrameBytes * 3
      const client = await pool.open('huge', SDK_BINARY)
      const frame = Buffer.alloc(size, 0x20)
      binaryFrame('ping', {}).copy(frame)
      client.sendRaw(frame)
      const outcome = await waitFor(
        () =>
          client.closeEvent ??
          client.frames.find(
            (f) => f.type === 'error' && String(f.payload.error).startsWith('Message too large'),
          ),
        10_000,
        () => `${client.label}: a close or a "Message too large" error after a ${size}-byte frame`,
      )
      if ('code' in outcome) expect(outcome.code, `${client.label}: close code`).toBe(1009)
      // The server is unharmed.
      const other = await pool.connect('after-huge', LEGACY_JSON)
      await other.join(documentId('after-huge'))
    })

    full(
      'rate-limits a flooding connection with RATE_LIMIT_EXCEEDED and still answers its pings',
      async () => {
        const client = await pool.connect('flooder', LEGACY_BINARY)
        const flood = CONFORMANCE_LIMITS.maxMessagesPerMinute + 20
        for (let i = 0; i < flood; i++) client.send('unsubscribe', { documentId: `flood-${i}` })
        const error = await client.waitError('after a flood', 'Too many messages. Please slow down.')
        expect(error.payload.details, `${client.label}: details`).toMatchObject({
          code: 'RATE_LIMIT_EXCEEDED',
        })
        const from = client.mark()
        client.send('ping', {})
        await client.waitFrame('pong while rate limited', (f) => f.type === 'pong', { from })
        // Other connections are not affected.
        const other = await pool.connect('calm', LEGACY_BINARY)
        await other.join(documentId('calm'))
      },
    )

    withSendBuffer(
      'closes a stalled reader with 1013 past the hard limit; memory stays bounded; others keep working',
      async () => {
        const doc = documentId('flood')
        const slow = await pool.connect('stalled', SDK_BINARY)
        const writer = await pool.connect('writer', SDK_BINARY)
        await slow.join(doc)
        await writer.join(doc)
        const writerFrom = writer.mark()
        const closedBefore = metricValue(await scrapeMetrics(), 'synckit_backpressure_closed_total') ?? 0

        slow.pause() // stops reading: the kernel buffers fill, then the server's
        const fieldBytes = 8 * 1024
        const fieldsPerFrame = Math.floor((CONFORMANCE_LIMITS.maxFrameBytes * 0.75) / fieldBytes)
        const value = 'v'.repeat(fieldBytes)
        // Each queued echo holds at least one field value, so this bounds the queued bytes by the hard
        // limit plus one message. (The writer's own queue is empty whenever it holds its ack.)
        const maxQueuedMessages = Math.min(
          CONFORMANCE_LIMITS.maxQueuedMessages,
          Math.ceil(CONFORMANCE_LIMITS.hardLimit / fieldBytes) + 1,
        )
        let peakQueued = 0
        let closedAfter = closedBefore
        let frames = 0
        const maxFrames = 150 // ~28 MiB: far past any kernel buffer on loopback
        while (frames < maxFrames && closedAfter === closedBefore) {
          const fields: JsonObject = {}
          for (let i = 0; i < fieldsPerFrame; i++) fields[`f${frames}-${i}`] = value
          await writer.writeAcked(doc, fields)
          frames++
          const metrics = await scrapeMetrics()
          peakQueued = Math.max(peakQueued, metricValue(metrics, 'synckit_outbound_queued_messages') ?? 0)
          closedAfter = metricValue(metrics, 'synckit_backpressure_closed_total') ?? 0
        }
        expect(
          closedAfter,
          `the stalled reader was not closed after ${frames} frames of ${fieldsPerFrame} × ${fieldBytes} B`,
        ).toBeGreaterThan(closedBefore)
        expect(peakQueued, 'messages queued for slow readers (each >= one field value)').toBeLessThanOrEqual(
          maxQueuedMessages,
        )
        // The writer, reading normally, got every echo meanwhile.
        await writer.waitFrames(
          'echoes of the flood',
          (f) => f.type === 'delta' && f.payload.documentId === doc,
          frames * fieldsPerFrame,
          { from: writerFrom },
        )

        // The reader sees the close code once it reads again.
        slow.resume()
        expect(await slow.closed(20_000), `${slow.label}: close code`).toEqual(SLOW_CLIENT)

        // Everyone else carries on, and a new reader resyncs the whole flooded document.
        await writer.writeAcked(doc, { after: 'ok' })
        await writer.waitEcho(doc, 'after', 'ok', { from: writerFrom })
        const again = await pool.connect('reconnected', LEGACY_JSON)
        const small = documentId('after-flood')
        await again.join(small)
        await writer.join(small)
        const from = again.mark()
        await writer.writeAcked(small, { back: true })
        await again.waitEcho(small, 'back', true, { from })
        const resync = await pool.connect('resync', SDK_BINARY)
        const resyncFrom = resync.mark()
        resync.send('subscribe', { documentId: doc })
        await resync.waitFrames(
          'every flooded field re-sent',
          (f) => f.type === 'delta' && f.payload.documentId === doc,
          frames * fieldsPerFrame + 1,
          { from: resyncFrom },
        )
        expect(resync.closeEvent, `${resync.label} was closed`).toBeUndefined()
      },
      90_000,
    )

    withoutSendBuffer(
      'a reader that stops reading gets every echo once it reads again; others keep working',
      async () => {
        const doc = documentId('stall')
        const slow = await pool.connect('stalled', SDK_BINARY)
        const writer = await pool.connect('writer', SDK_BINARY)
        await slow.join(doc)
        await writer.join(doc)
        const slowFrom = slow.mark()
        const writerFrom = writer.mark()
        slow.pause()
        const fieldCount = await writeLargeDocument(writer, doc)
        const isEcho = (f: Frame): boolean => f.type === 'delta' && f.payload.documentId === doc
        await writer.waitFrames('every echo while the reader stalls', isEcho, fieldCount, {
          from: writerFrom,
        })
        slow.resume()
        await slow.waitFrames('every echo once it reads again', isEcho, fieldCount, {
          from: slowFrom,
        })
        expect(slow.closeEvent, `${slow.label} was closed`).toBeUndefined()
      },
      90_000,
    )

    // A document's initial sync is a reply the client asked for: it may exceed the hard limit
    // (which bounds what a reader falls behind on broadcasts), up to backpressure.maxReplyBytes.
    full(
      'syncs a document larger than the hard limit to a prompt reader: sync_response and every field',
      async () => {
        const doc = documentId('big')
        const writer = await pool.connect('writer', SDK_BINARY)
        const fieldCount = await writeLargeDocument(writer, doc)
        const reader = await pool.connect('reader', SDK_BINARY)
        const from = reader.mark()
        reader.send('subscribe', { documentId: doc })
        await reader.waitFrames(
          'every field re-sent after sync_response',
          (f) => f.type === 'delta' && f.payload.documentId === doc,
          fieldCount,
          { from },
        )
        const response = reader.frames.slice(from).find((f) => f.type === 'sync_response')
        expect(Object.keys((response?.payload.state ?? {}) as JsonObject)).toHaveLength(fieldCount)
        expect(reader.closeEvent, `${reader.label} was closed`).toBeUndefined()
      },
      60_000,
    )

    // ------------------------------------------------------------ HTTP

    smoke('GET /health answers healthy in the SyncKit shape, with the security headers', async () => {
      const response = await http('/health')
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^application\/json/)
      expect(response.headers.get('x-content-type-options')).toBe('nosniff')
      expect(response.headers.get('x-frame-options')).toBe('DENY')
      const body = (await response.json()) as Record<string, unknown>
      expect(body).toMatchObject({
        status: 'healthy',
        version: expect.any(String),
        uptime: expect.any(Number),
        connections: {
          totalConnections: expect.any(Number),
          totalUsers: expect.any(Number),
          totalClients: expect.any(Number),
        },
        documents: { totalDocuments: expect.any(Number), documents: [] },
      })
      expect(Number.isNaN(Date.parse(String(body.timestamp))), 'timestamp is ISO').toBe(false)
    })

    smoke('serves GET /, /health/live and /health/ready', async () => {
      const info = await http('/')
      expect(info.status).toBe(200)
      expect(await info.json()).toMatchObject({ name: expect.any(String), endpoints: { ws: '/ws' } })
      const live = await http('/health/live')
      expect(live.status).toBe(200)
      expect(await live.json()).toMatchObject({ status: 'healthy' })
      const ready = await http('/health/ready')
      expect(ready.status).toBe(200)
      expect(await ready.json()).toMatchObject({ status: 'healthy' })
      expect((await http('/no-such-route')).status).toBe(404)
    })

    smoke('GET /metrics is Prometheus text', async () => {
      const client = await pool.connect('metered', SDK_BINARY)
      await client.join(documentId('metrics'))
      const response = await http('/metrics')
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
      const text = await response.text()
      expect(text).toContain('# TYPE synckit_connections gauge')
      expect(metricValue(text, 'synckit_connections'), 'open connections').toBeGreaterThanOrEqual(1)
      expect(metricValue(text, 'synckit_messages_in_total'), 'messages in').toBeGreaterThan(0)
      expect(metricValue(text, 'synckit_messages_out_total'), 'messages out').toBeGreaterThan(0)
    })

    smoke('answers a plain (non-upgrade) GET /ws with 426', async () => {
      const response = await http('/ws')
      expect(response.status).toBe(426)
      expect(await response.text()).toMatch(/WebSocket/)
    })

    smoke('refuses WebSocket upgrades on other paths', async () => {
      const url = running().url.replace(/\/ws$/, '/elsewhere')
      const ws = new WebSocket(url, { perMessageDeflate: false })
      const outcome = await within(
        new Promise<string>((resolve) => {
          ws.once('open', () => resolve('opened'))
          ws.once('error', (error) => resolve(error.message))
        }),
        10_000,
        `an upgrade on ${url} being answered`,
      )
      ws.terminate()
      expect(outcome).toMatch(/404/)
    })

    // ------------------------------------------------------------ last: shutdown

    smoke(
      'closes every socket with 1001 "Server shutdown" when stopped (runs last)',
      async () => {
        const doc = documentId('shutdown')
        const legacy = await pool.connect('legacy', LEGACY_BINARY)
        const sdk = await pool.connect('sdk', SDK_JSON)
        await legacy.join(doc)
        await sdk.join(doc)
        await within(stop(), 20_000, `${name}: stopping`)
        for (const client of [legacy, sdk]) {
          expect(await client.closed(10_000), `${client.label}: close on shutdown`).toEqual(SHUTDOWN)
        }
      },
      40_000,
    )
  })
}
