import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ERRORS, MESSAGE_TYPE_CODES } from '../../src/protocol/index.js'
import { SLOW_CLIENT_CODE, SLOW_CLIENT_REASON } from '../../src/server/effects.js'

/**
 * docs/protocol.md is the protocol reference code comments cite. These checks keep it in step
 * with the code: a new message type, error code or error text, a cited D-number or section that
 * the page does not define, fails here until the page says what it is.
 */

const ROOT = resolve(import.meta.dirname, '../..')
const DOC_PATH = 'docs/protocol.md'
const doc = readFileSync(resolve(ROOT, DOC_PATH), 'utf8')

/** Section numbers of the page's headings: `## 5. Documents` -> 5, `### 5.3 subscribe` -> 5.3. */
const sections = new Set(
  [...doc.matchAll(/^#{2,4} (\d+(?:\.\d+)*)\.? /gm)].map((match) => match[1] as string),
)
/** Defined differences: `### D5. Echo clocks ...` -> 5. */
const differences = new Set([...doc.matchAll(/^### D(\d+)\. /gm)].map((match) => Number(match[1])))

/** The members of `export type ErrorCode = | 'A' | 'B'`, read from the source (types vanish at runtime). */
function errorCodes(): string[] {
  const source = readFileSync(resolve(ROOT, 'src/protocol/types.ts'), 'utf8')
  const union = source.match(/export type ErrorCode =([\s\S]*?)\n\n/)?.[1] ?? ''
  return [...union.matchAll(/'([A-Z_]+)'/g)].map((match) => match[1] as string)
}

function sourceFiles(dir: string): string[] {
  const files: string[] = []
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path))
    else if (/\.(ts|md)$/.test(name)) files.push(path)
  }
  return files
}

/** Every `Dn` cited in src/, adapters/, test/ and docs/, with where. */
function citedDifferences(): Map<number, string> {
  const cited = new Map<number, string>()
  for (const top of ['src', 'adapters', 'test', 'docs']) {
    for (const file of sourceFiles(resolve(ROOT, top))) {
      const lines = readFileSync(file, 'utf8').split('\n')
      lines.forEach((line, index) => {
        for (const match of line.matchAll(/\bD(\d{1,2})\b/g)) {
          cited.set(Number(match[1]), `${relative(ROOT, file)}:${index + 1}`)
        }
      })
    }
  }
  return cited
}

describe(DOC_PATH, () => {
  it('has numbered sections and the D-list to cite', () => {
    expect(sections.size).toBeGreaterThan(40)
    expect(differences.size).toBeGreaterThanOrEqual(25)
    // Numbered from D1 without gaps, so a citation can never fall into a hole.
    expect([...differences].sort((a, b) => a - b)).toEqual(
      Array.from({ length: differences.size }, (_, i) => i + 1),
    )
  })

  it('lists every message type with its code in the type table', () => {
    const rows = doc.split('\n').filter((line) => line.startsWith('| `'))
    for (const [type, code] of Object.entries(MESSAGE_TYPE_CODES)) {
      const hex = `0x${code.toString(16).padStart(2, '0')}`.toLowerCase()
      const row = rows.find((line) => line.startsWith(`| \`${type}\``) && line.toLowerCase().includes(hex))
      expect(row, `no type table row for ${type} (${hex})`).toBeDefined()
    }
  })

  it('documents every error code of the ErrorCode type', () => {
    const codes = errorCodes()
    expect(codes.length).toBeGreaterThan(10)
    for (const code of codes)
      expect(doc.includes(`\`${code}\``), `error code ${code} is not documented`).toBe(true)
  })

  it('quotes every fixed error text of the protocol layer verbatim', () => {
    for (const [name, text] of Object.entries(ERRORS)) {
      expect(doc.includes(text), `ERRORS.${name} ("${text}") is not documented`).toBe(true)
    }
  })

  it('names the slow-client close code and reason', () => {
    expect(doc.includes(`| ${SLOW_CLIENT_CODE} | \`${SLOW_CLIENT_REASON}\``)).toBe(true)
  })

  it('defines every D-number the code, tests and docs cite', () => {
    const cited = citedDifferences()
    expect(cited.size).toBeGreaterThan(0)
    for (const [number, where] of cited) {
      expect(differences.has(number), `D${number} (cited at ${where}) is not defined`).toBe(true)
    }
  })

  it('has a heading for every section it refers to, and every citation of it elsewhere', () => {
    const references = new Map<string, string>()
    for (const match of doc.matchAll(/§(\d+(?:\.\d+)*)/g)) references.set(match[1] as string, DOC_PATH)
    for (const top of ['src', 'adapters', 'test', 'docs']) {
      for (const file of sourceFiles(resolve(ROOT, top))) {
        const text = readFileSync(file, 'utf8')
        for (const match of text.matchAll(/docs\/protocol\.md §(\d+(?:\.\d+)*)/g)) {
          references.set(match[1] as string, relative(ROOT, file))
        }
      }
    }
    for (const [section, where] of references) {
      expect(sections.has(section), `§${section} (cited in ${where}) has no heading`).toBe(true)
    }
  })
})

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '')
    .replace(/ /g, '-')
}

describe('citations of the protocol', () => {
  const anchors = new Set([...doc.matchAll(/^#{1,4} (.+)$/gm)].map((match) => anchorOf(match[1] as string)))
  const SELF = resolve(import.meta.dirname, 'protocol-doc.test.ts')
  /** What a reader of the repository sees: code, tests, docs, benchmarks, examples, README, CONTRIBUTING. */
  const files = [
    ...['src', 'adapters', 'test', 'docs', 'bench', 'examples', 'scripts', 'demo', 'inspector'].flatMap(
      (top) => sourceFiles(resolve(ROOT, top)),
    ),
    ...['README.md', 'CONTRIBUTING.md'].map((name) => resolve(ROOT, name)),
  ].filter((file) => file !== resolve(ROOT, DOC_PATH) && file !== SELF)
  /** A line points into the page by naming it, or (in docs/) by linking to it. */
  const POINTS_INTO_PAGE = /docs\/protocol\.md|\]\((?:\.\/)?protocol\.md[#)]/
  /** A section sign that is not another document's (`RFC 4648 §4`), a D-number, or the old "FIX". */
  const CITES = /(?<!RFC \d+ )§|\bD\d{1,2}\b|\bFIX(?:es)?\b/

  function lines(): { where: string; line: string }[] {
    return files.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, index) => ({ where: `${relative(ROOT, file)}:${index + 1}`, line })),
    )
  }

  it('name no protocol document outside the repository', () => {
    expect(files.length).toBeGreaterThan(300)
    const outside = lines().filter(({ line }) => /PROTOCOL(?:\.md| §)/.test(line))
    expect(outside.map(({ where }) => where)).toEqual([])
  })

  it('say where every section, difference (Dn) or "FIX" they cite is: docs/protocol.md', () => {
    const bare = lines().filter(({ line }) => CITES.test(line) && !POINTS_INTO_PAGE.test(line))
    expect(bare.map(({ where, line }) => `${where}: ${line.trim()}`)).toEqual([])
  })

  it('cite sections and anchors the page has', () => {
    const missing: string[] = []
    for (const { where, line } of lines()) {
      if (!POINTS_INTO_PAGE.test(line)) continue
      for (const match of line.matchAll(/(?<!RFC \d+ )§(\d+(?:\.\d+)*)/g)) {
        if (!sections.has(match[1] as string)) missing.push(`${where}: §${match[1]}`)
      }
      for (const match of line.matchAll(/protocol\.md#([^)\s]+)/g)) {
        if (!anchors.has(match[1] as string)) missing.push(`${where}: #${match[1]}`)
      }
    }
    expect(missing).toEqual([])
  })
})
