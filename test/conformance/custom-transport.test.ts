import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT, runtimeBinary } from './spawn-runtime.js'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function runExample(file: string, timeoutMs: number): Promise<Run> {
  return new Promise((resolveRun) => {
    execFile(
      runtimeBinary('tsx'),
      [resolve(REPO_ROOT, file)],
      { cwd: REPO_ROOT, timeout: timeoutMs, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0
        resolveRun({ code, stdout, stderr })
      },
    )
  })
}

describe('examples/custom-transport.ts (MessageChannel transport)', () => {
  it('subscribes, writes, sees the echo on both clients, and exits 0', async () => {
    const run = await runExample('examples/custom-transport.ts', 30_000)
    const context = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`
    expect(run.code, context).toBe(0)
    const lines = run.stdout.trim().split('\n')
    expect(lines, context).toEqual([
      'alice <- sync_response todo-1 state={}',
      'bob <- sync_response todo-1 state={}',
      'alice <- delta todo-1.title = "Buy milk"',
      'bob <- delta todo-1.title = "Buy milk"',
      'alice <- ack m-1',
      'alice <- close 1001 Server shutdown',
      'bob <- close 1001 Server shutdown',
      'custom transport: ok (0 connections left)',
    ])
  }, 40_000)
})
