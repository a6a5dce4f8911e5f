/**
 * Engine micro-benchmark: a decoded-and-validated single-field `delta` in, broadcast effects out,
 * with 10 subscribers. Pure engine work (decode, validate, authorize, LWW apply, echo, persist
 * batch, ack); no sockets. Run: `npm run bench:engine`.
 */
import { Bench } from 'tinybench'
import { SyncEngine } from '../src/engine/index.js'
import type { Effect } from '../src/engine/types.js'
import { decodeClientFrame, encodeFrame, encodeServerMessage } from '../src/protocol/index.js'
import type { ClientMessage } from '../src/protocol/types.js'

const SUBSCRIBERS = 10
const FIELDS = 100

/** `bench`: the minimal single-field shape. `sdk`: what SDK 0.1.1 sends for `set()` (docs/protocol.md §10.2). */
type FrameShape = 'bench' | 'sdk'

function deltaPayload(shape: FrameShape, i: number, time: number): Record<string, unknown> {
  const base = {
    documentId: 'doc',
    field: `f${i % FIELDS}`,
    value: i,
    clock: { 'client-0': i },
    messageId: `w${i}`,
  }
  return shape === 'bench' ? base : { type: 'set', ...base, clientId: 'client-0', timestamp: time - 5 }
}

function setup(shape: FrameShape = 'bench'): { engine: SyncEngine; frames: Uint8Array[]; now: () => number } {
  let id = 0
  let time = 1_700_000_000_000
  const engine = new SyncEngine({
    nodeId: 'bench',
    anonymous: true,
    durableAcks: true,
    resendFieldsOnSubscribe: false,
    newId: () => `m${++id}`,
    limits: { maxMessagesPerMinute: 1e12 },
  })
  const complete = (effects: Effect[]) => {
    for (const effect of effects) {
      if (effect.kind === 'load') {
        engine.resolve(
          { kind: 'loaded', snapshot: { documentId: effect.documentId, registers: [], clock: {} } },
          time,
        )
      }
    }
  }
  for (let i = 0; i < SUBSCRIBERS; i++) {
    engine.open(`c${i}`, time)
    complete(engine.receive(`c${i}`, encodeFrame('subscribe', { documentId: 'doc' }, time, 'binary'), time))
    engine.flush(time)
  }
  const frames: Uint8Array[] = []
  for (let i = 0; i < 1000; i++) {
    const frame = encodeFrame('delta', deltaPayload(shape, i, time), time, 'binary')
    if (typeof frame === 'string') throw new Error('binary expected')
    frames.push(frame)
  }
  return { engine, frames, now: () => ++time }
}

function settle(engine: SyncEngine, effects: Effect[], now: number): number {
  let sends = 0
  for (const effect of effects) {
    if (effect.kind === 'send') sends++
    if (effect.kind === 'persist') engine.resolve({ kind: 'persisted', batchId: effect.batchId }, now)
  }
  return sends
}

/** `BENCH_CPU_ONLY=1`: only the CPU-time figures, as one JSON line (used by engine-compare.sh). */
const cpuOnly = process.env.BENCH_CPU_ONLY === '1'

if (!cpuOnly) await wallClockTable()

async function wallClockTable(): Promise<void> {
  const flushEach = setup()
  let i = 0
  const batched = setup()
  let j = 0
  const encoded = setup()
  let k = 0
  const bench = new Bench({ time: 2_000, warmup: true, warmupTime: 500 })
  bench
    .add('delta -> echo effects, flush per delta (10 subscribers)', () => {
      const { engine, frames, now } = flushEach
      const t = now()
      engine.receive('c0', frames[i++ % frames.length] as Uint8Array, t)
      settle(engine, engine.flush(t), t)
    })
    .add('100 deltas per flush (10 subscribers), per delta', () => {
      const { engine, frames, now } = batched
      const t = now()
      for (let n = 0; n < 100; n++) engine.receive('c0', frames[j++ % frames.length] as Uint8Array, t)
      settle(engine, engine.flush(t), t)
    })
    .add('delta -> echo effects + binary encode once (10 subscribers)', () => {
      const { engine, frames, now } = encoded
      const t = now()
      engine.receive('c0', frames[k++ % frames.length] as Uint8Array, t)
      for (const effect of engine.flush(t)) {
        if (effect.kind === 'send') encodeServerMessage(effect.message, 'binary')
        if (effect.kind === 'persist') engine.resolve({ kind: 'persisted', batchId: effect.batchId }, t)
      }
    })
  await bench.run()
  /** 1000 / median latency: the median throughput, less sensitive to a noisy neighbour than the mean. */
  const rows = bench.tasks.map((task) => {
    const result = task.result
    const p50 = result && 'latency' in result ? result.latency.p50 : undefined
    const perIteration = p50 ? 1000 / p50 : 0
    const perDelta = task.name.startsWith('100 deltas') ? perIteration * 100 : perIteration
    return { task: task.name, 'deltas/s (wall, median)': Math.round(perDelta).toLocaleString('en-US') }
  })
  console.table(rows)
}

/**
 * CPU time instead of wall time: on a shared machine other processes steal the core, which wall
 * time counts and CPU time does not. This is "deltas per second of one core".
 */
function perCpuSecond(count: number, step: () => void): number {
  const start = process.cpuUsage()
  for (let n = 0; n < count; n++) step()
  const used = process.cpuUsage(start)
  return count / ((used.user + used.system) / 1e6)
}

function medianOf(rounds: number, sample: () => number): { median: number; min: number; max: number } {
  const samples = Array.from({ length: rounds }, sample).sort((a, b) => a - b)
  return { median: samples[Math.floor(rounds / 2)] ?? 0, min: samples[0] ?? 0, max: samples.at(-1) ?? 0 }
}

/** One `receive` of frame bytes and one flush per delta, the worst case for coalescing. */
function framePath(shape: FrameShape) {
  const { engine, frames, now } = setup(shape)
  let n = 0
  return medianOf(7, () =>
    perCpuSecond(100_000, () => {
      const t = now()
      engine.receive('c0', frames[n++ % frames.length] as Uint8Array, t)
      settle(engine, engine.flush(t), t)
    }),
  )
}

/** The same deltas already decoded and validated: the engine alone (the figure). */
function decodedPath() {
  const { engine, frames, now } = setup()
  const decoded = frames.map((frame) => {
    const result = decodeClientFrame(frame)
    if (!result.ok) throw new Error('bench frame did not decode')
    return result.message
  })
  let n = 0
  return medianOf(7, () =>
    perCpuSecond(100_000, () => {
      const t = now()
      engine.receiveMessage('c0', decoded[n++ % decoded.length] as ClientMessage, t)
      settle(engine, engine.flush(t), t)
    }),
  )
}

const fromFrames = framePath('bench')
const fromSdkFrames = framePath('sdk')
const fromDecoded = decodedPath()

if (cpuOnly) {
  console.log(
    JSON.stringify({
      frame: Math.round(fromFrames.median),
      sdkFrame: Math.round(fromSdkFrames.median),
      decoded: Math.round(fromDecoded.median),
    }),
  )
} else {
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
  const line = (label: string, r: { median: number; min: number; max: number }) =>
    console.log(`  ${label.padEnd(48)} ${fmt(r.median)}  [min ${fmt(r.min)}, max ${fmt(r.max)}]`)
  console.log(
    `single-field delta -> echo effects, flush per delta, ${SUBSCRIBERS} subscribers, per CPU-second (median of 7 x 100,000):`,
  )
  line('from frame bytes (decode + validate + engine):', fromFrames)
  line('from SDK 0.1.1-shaped frame bytes:', fromSdkFrames)
  line('from a decoded delta (engine only):', fromDecoded)
}
