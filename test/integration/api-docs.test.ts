import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const root = join(import.meta.dirname, '..', '..')
const run = promisify(execFile)

/**
 * `npm run docs:api` stays buildable, and every exported symbol keeps a doc comment: typedoc's
 * validation (typedoc.json: `notDocumented`, warnings as errors) runs without emitting.
 */
it('typedoc validates the API reference: every export documented, every link resolved', async () => {
  const typedoc = join(root, 'node_modules', '.bin', 'typedoc')
  const result = await run(typedoc, ['--emit', 'none'], { cwd: root, timeout: 180_000 }).catch(
    (error: { stdout?: string; stderr?: string; code?: number }) => error,
  )
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`
  expect(output).not.toMatch(/does not have any documentation|warning|error/i)
  expect((result as { code?: number }).code ?? 0).toBe(0)
}, 200_000)
