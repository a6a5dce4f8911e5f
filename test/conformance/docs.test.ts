import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from './spawn-runtime.js'

/**
 * docs/adapters.md and docs/client.md: every snippet marked `<!-- snippet: <file> -->` must be the code that file runs.
 * Each of its lines must appear in the file, in order, except imports (package subpaths in the
 * docs, relative paths in the repo), the `options` line (the fixtures use the suite's options),
 * comment-only lines, and trailing ` // ` comments. TOML snippets (wrangler.toml) compare their
 * lines the same way, `#` comments aside.
 */

const DOC = 'docs/adapters.md'

function codeLines(source: string): string[] {
  const lines: string[] = []
  let inImport = false
  for (const raw of source.split('\n')) {
    let line = raw.trim()
    if (inImport) {
      if (/^}\s*from\s/.test(line)) inImport = false
      continue
    }
    if (line.startsWith('import ')) {
      if (!/\sfrom\s|^import\s+['"]/.test(line)) inImport = true
      continue
    }
    if (line === '' || line.startsWith('//') || line.startsWith('/*') || line.startsWith('*')) continue
    if (line.startsWith('#')) continue
    if (line.startsWith('const options ')) continue
    const comment = line.indexOf(' // ')
    if (comment >= 0) line = line.slice(0, comment).trimEnd()
    lines.push(line)
  }
  return lines
}

interface Snippet {
  file: string
  code: string
}

function snippets(markdown: string): Snippet[] {
  const found: Snippet[] = []
  const pattern = /<!-- snippet: (\S+) -->\s*```(?:ts|toml)\n([\s\S]*?)```/g
  for (const match of markdown.matchAll(pattern)) {
    found.push({ file: match[1] ?? '', code: match[2] ?? '' })
  }
  return found
}

/** Each code line of the snippet is in the file, in order. */
function expectInFile(doc: string, snippet: Snippet): void {
  const file = codeLines(readFileSync(resolve(REPO_ROOT, snippet.file), 'utf8'))
  let at = 0
  for (const line of codeLines(snippet.code)) {
    const index = file.indexOf(line, at)
    expect(index, `${doc} line not found (in order) in ${snippet.file}: ${line}`).toBeGreaterThanOrEqual(0)
    at = index + 1
  }
}

describe(`${DOC} snippets`, () => {
  const markdown = readFileSync(resolve(REPO_ROOT, DOC), 'utf8')
  const all = snippets(markdown)

  it('has one per runtime and framework, the Cloudflare example and the custom transport', () => {
    expect(all.map((s) => s.file).sort()).toEqual([
      'examples/cloudflare/src/index.ts',
      'examples/cloudflare/wrangler.toml',
      'examples/custom-transport.ts',
      'test/runtimes/bun-server.ts',
      'test/runtimes/crossws-node.ts',
      'test/runtimes/deno-server.ts',
      'test/runtimes/express.ts',
      'test/runtimes/fastify.ts',
      'test/runtimes/hono.ts',
      'test/runtimes/node-http.ts',
      'test/runtimes/node-ws.ts',
    ])
  })

  for (const snippet of all) {
    it(`matches ${snippet.file}`, () => expectInFile(DOC, snippet))
  }
})

describe('docs/client.md snippets', () => {
  const all = snippets(readFileSync(resolve(REPO_ROOT, 'docs/client.md'), 'utf8'))

  it('are taken from the demo, which the browser test runs', () => {
    expect(all.length).toBeGreaterThanOrEqual(4)
    for (const snippet of all) expect(snippet.file).toBe('demo/main.ts')
  })

  for (const [i, snippet] of all.entries()) {
    it(`snippet ${i + 1} matches ${snippet.file}`, () => expectInFile('docs/client.md', snippet))
  }
})
