import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { within } from '../helpers/wait-for.js'

/**
 * CI runs the end-to-end benchmark only as a smoke test: `bench/e2e/run.ts --smoke` (a relay, the
 * CLI with the memory store, separate load processes, every scenario for a fraction of a second)
 * must finish and write figures that make sense. The figures themselves are not judged: the
 * machine may be busy.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const dir = await mkdtemp(join(tmpdir(), 'synckit-bench-smoke-'))
afterAll(() => rm(dir, { recursive: true, force: true }))

interface Summary {
  median: Record<string, number | null>
  ratioToRelay?: Record<string, number | null>
}

function runSmoke(out: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/e2e/run.ts', '--smoke', '--out', out], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  return within(
    new Promise<{ code: number | null; output: string }>((resolve) =>
      child.once('exit', (code) => resolve({ code, output })),
    ),
    110_000,
    'bench:e2e --smoke',
  ).catch((error: unknown) => {
    child.kill('SIGKILL')
    throw error
  })
}

const positive = (value: number | null | undefined) => typeof value === 'number' && value > 0

describe('bench:e2e --smoke', () => {
  it('runs every scenario against the relay and the server and writes sane figures', async () => {
    const out = join(dir, 'smoke.json')
    const { code, output } = await runSmoke(out)
    expect(code, output).toBe(0)
    expect(output).toContain('Issue 16 targets')
    const results = JSON.parse(await readFile(out, 'utf8'))
    expect(results.meta).toMatchObject({ mode: 'smoke', rounds: 1 })

    const latency = results.hotDocument.openLoop['1000'] as Record<string, Summary>
    for (const target of ['relay', 'memory']) {
      const { median } = latency[target] as Summary
      expect(positive(median.p50), `${target} p50`).toBe(true)
      expect(median.p99 ?? 0).toBeGreaterThanOrEqual(median.p50 ?? 0)
      expect(median.samples).toBeGreaterThan(100)
      // Every write reaches every connection of the document (none lost, none coalesced away).
      expect(median.delivered).toBe(1)
      expect(median.errors).toBe(0)
      expect(positive(median.serverCpuUsPerWrite), `${target} CPU per write`).toBe(true)
    }
    expect(positive(latency.memory?.ratioToRelay?.p99)).toBe(true)

    for (const series of [results.hotDocument.closedLoop, results.durableWrites.closedLoop]) {
      for (const target of ['relay', 'memory']) {
        const { median } = series[target] as Summary
        expect(positive(median.writesPerSecond), `${target} writes/s`).toBe(true)
        expect(median.errors).toBe(0)
        expect(median.dropped).toBe(0)
      }
      expect(positive(series.memory.ratioToRelay.writesPerSecond)).toBe(true)
    }

    const many = results.manyDocuments.openLoop as Record<string, Summary>
    expect(positive(many.memory?.median.p50)).toBe(true)
    expect(many.memory?.median.delivered).toBe(1)

    const idle = results.idleMemory
    for (const target of ['relay', 'memory']) {
      expect(positive(idle.rss[target].before)).toBe(true)
      expect(positive(idle.rss[target]['200'])).toBe(true)
      expect(Number.isFinite(idle.bytesPerConnection[target]['200'])).toBe(true)
    }
  }, 120_000)
})
