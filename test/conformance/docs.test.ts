import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from './spawn-runtime.js'

/**
 * Docs with code: every snippet marked `<!-- snippet: <file> -->` must be the code that file runs
 * (and tests run). Each of its lines must appear in the file, in order, except imports (package
 * subpaths in the docs, relative paths in the repo), the `options` line (the fixtures use the
 * suite's options), comment-only lines, and trailing ` // ` comments. TOML snippets (wrangler.toml)
 * compare their lines the same way, `#` comments aside.
 */

/** Each doc and the files its snippets come from, one entry per snippet. */
const DOCS: Record<string, string[]> = {
  'docs/adapters.md': [
    'examples/cloudflare/src/index.ts',
    'examples/cloudflare/wrangler.toml',
    'test/runtimes/cloudflare-door.ts',
    'examples/custom-transport.ts',
    'test/runtimes/bun-server.ts',
    'test/runtimes/crossws-node.ts',
    'test/runtimes/deno-server.ts',
    'test/runtimes/express.ts',
    'test/runtimes/fastify.ts',
    'test/runtimes/hono.ts',
    'test/runtimes/node-http.ts',
    'test/runtimes/node-ws.ts',
  ],
  // The demo, which the browser test runs.
  'docs/client.md': Array(4).fill('demo/main.ts'),
  'docs/documents.md': Array(4).fill('examples/documents.ts'),
  'docs/events.md': Array(14).fill('examples/events.ts'),
  'docs/operations.md': ['examples/backup.ts', 'examples/inspector.ts'],
  'docs/rest.md': ['examples/rest.ts'],
  'docs/security.md': ['examples/cookie-auth.ts'],
  'docs/webhooks.md': ['examples/webhook-receiver.ts', 'examples/webhooks.ts'],
  'README.md': ['examples/embed.ts'],
}

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

for (const [doc, expected] of Object.entries(DOCS)) {
  describe(`${doc} snippets`, () => {
    const markdown = readFileSync(resolve(REPO_ROOT, doc), 'utf8')
    const all = snippets(markdown)

    it('has the snippets it should', () => {
      expect(all.map((s) => s.file).sort()).toEqual([...expected].sort())
    })

    for (const [index, snippet] of all.entries()) {
      it(`snippet ${index + 1} matches ${snippet.file}`, () => {
        const file = codeLines(readFileSync(resolve(REPO_ROOT, snippet.file), 'utf8'))
        let at = 0
        for (const line of codeLines(snippet.code)) {
          const found = file.indexOf(line, at)
          expect(
            found,
            `${doc} line not found (in order) in ${snippet.file}: ${line}`,
          ).toBeGreaterThanOrEqual(0)
          at = found + 1
        }
      })
    }
  })
}
