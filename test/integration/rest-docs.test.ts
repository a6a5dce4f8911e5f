import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serveWithRest } from '../../examples/rest.js'
import { signAccessToken } from '../../src/auth/tokens.js'

/**
 * docs/rest.md's curl walkthrough, run as written (bash and curl) against examples/rest.ts: each
 * `sh` block's output must be the answer the block after it shows (JSON compared as values).
 */

const run = promisify(execFile)
const SECRET = 'rest-docs-secret-0123456789abcdef'
const OPS_KEY = 'sk_ops_0123456789'

interface Step {
  command: string
  expected: string
  kind: 'json' | 'text'
}

function walkthrough(): Step[] {
  const doc = readFileSync(new URL('../../docs/rest.md', import.meta.url), 'utf8')
  const section = doc.split('<!-- walkthrough -->')[1]?.split('<!-- /walkthrough -->')[0] ?? ''
  const blocks = [...section.matchAll(/```(sh|json|text)\n([\s\S]*?)```/g)].map((m) => ({
    lang: m[1] as string,
    body: m[2] as string,
  }))
  const steps: Step[] = []
  for (let i = 0; i < blocks.length; i += 2) {
    const command = blocks[i]
    const answer = blocks[i + 1]
    if (command?.lang !== 'sh' || !answer || answer.lang === 'sh')
      throw new Error(`block ${i}: a sh block, then its answer`)
    steps.push({
      command: command.body,
      expected: answer.body,
      kind: answer.lang === 'json' ? 'json' : 'text',
    })
  }
  return steps
}

let env: Record<string, string>
let stop: () => Promise<void>

beforeAll(async () => {
  const { sync, http } = await serveWithRest(SECRET, OPS_KEY, 0)
  stop = async () => {
    await http.close()
    await sync.close()
  }
  const token = await signAccessToken(
    { userId: 'alice', permissions: { canRead: [], canWrite: ['notes:*'], isAdmin: false } },
    { secret: SECRET, expiresIn: '1h' },
  )
  env = { PATH: process.env.PATH ?? '', SYNCKIT_URL: `http://127.0.0.1:${http.port}`, TOKEN: token, OPS_KEY }
})
afterAll(() => stop?.())

describe('docs/rest.md curl walkthrough', () => {
  it('has its steps', () => {
    expect(walkthrough().length).toBeGreaterThanOrEqual(8)
  })

  it('answers each command as the doc shows, in order', async () => {
    for (const step of walkthrough()) {
      const { stdout } = await run('bash', ['-c', step.command], { env, timeout: 20_000 })
      if (step.kind === 'json') expect(JSON.parse(stdout), step.command).toEqual(JSON.parse(step.expected))
      else expect(stdout, step.command).toBe(step.expected)
    }
  }, 60_000)
})
