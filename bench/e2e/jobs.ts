/** What the orchestrator (`run.ts`) asks of a load process (`load.ts`), over the IPC channel. */
import type { WriteShape } from './frames.js'

/** The server speaks the protocol (subscribe first); the relay puts a socket in the room `?doc=`. */
export type TargetKind = 'relay' | 'server'

/** One document: `writers` connections that write (and receive), `readers` that only receive. */
export interface Group {
  documentId: string
  writers: number
  readers: number
}

export interface OpenJob {
  kind: 'open'
  set: string
  url: string
  target: TargetKind
  groups: Group[]
  /** Source address of the client sockets (127.0.0.2, …): ports are per source address. */
  localAddress: string
  shape: WriteShape
  /** Handshakes in flight at once. */
  concurrency: number
}

/**
 * Slices of time, one set (one target) each, back to back: cycle c runs every set once, in an order
 * rotated by c, so every target sees the same machine (other processes' bursts) within a round.
 * `startAt` is wall-clock ms, so several load processes switch targets together.
 */
export interface Schedule {
  /** Connection set and the pid of the process it targets (its CPU time is read per slice). */
  sets: { name: string; pid: number }[]
  cycles: number
  sliceMs: number
  /** Quiet time after each slice: the target finishes what it was doing before the next one starts. */
  gapMs: number
  startAt: number
}

/** Writes at a fixed aggregate rate during each slice; latency counted from the due time of a write. */
export interface OpenLoopJob {
  kind: 'open-loop'
  schedule: Schedule
  rate: number
  /** How long to wait for the last echoes after the last slice. */
  drainMs: number
}

/** Each writer keeps `window` writes outstanding; a write completes on its ack (relay: its own echo). */
export interface ClosedLoopJob {
  kind: 'closed-loop'
  schedule: Schedule
  window: number
  /** Completions in the first `rampMs` of a slice are not counted (the windows fill up). */
  rampMs: number
}

/** Every connection sends one SDK `ping` at a random moment of the window and times the `pong`. */
export interface PingJob {
  kind: 'pings'
  set: string
  durationMs: number
  timeoutMs: number
}

export interface CloseJob {
  kind: 'close'
  set: string
}

export type Job = OpenJob | OpenLoopJob | ClosedLoopJob | PingJob | CloseJob

export interface OpenResult {
  opened: number
  failed: number
  firstError?: string
  ms: number
}

export interface OpenLoopResult {
  sent: number
  /** CPU ms of the target process during this set's slices (and the gaps after them). */
  targetCpuMs: number
  /** Echoes expected: every write goes to every connection of its document. */
  expected: number
  received: number
  /** Echo latencies in ms of the sampled writes, at every receiving connection. */
  latencies: Float64Array
  /** p99 of each slice on its own: robust to a stall another process caused in one slice. */
  sliceP99s: number[]
  errors: number
  /** Connections of the set the server closed so far. */
  dropped: number
  /** CPU time of this load process during the job. */
  cpuMs: number
}

export interface ClosedLoopResult {
  targetCpuMs: number
  /** Writes completed within the measured part. */
  acked: number
  /** Every write completed, warm-up and drain included (what the server's CPU time covers). */
  completed: number
  seconds: number
  /** Send to completion, ms, of the writes completed in the measured part. */
  latencies: Float64Array
  errors: number
  firstError?: string
  dropped: number
  cpuMs: number
}

export interface PingResult {
  latencies: Float64Array
  missing: number
  dropped: number
  /** Longest event-loop stall of this load process during the window, ms. */
  loopDelayMaxMs: number
  /** Longest garbage-collection pause of this load process during the window, ms. */
  gcMaxMs: number
  cpuMs: number
}

/** The load process's reply to job `id`. */
export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string }
