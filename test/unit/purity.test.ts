import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..', '..')
const PURE_LAYERS = ['src/protocol', 'src/crdt', 'src/engine']
/** Packages of types only, which the core may import with `import type`. */
const TYPE_ONLY_PACKAGES = new Set(['@standard-schema/spec'])

/** What the sans-I/O core must never touch: the runtime owns time, randomness, timers and I/O. */
const FORBIDDEN: { pattern: RegExp; why: string }[] = [
  { pattern: /\bDate\.now\s*\(/, why: 'time is injected' },
  { pattern: /\bnew Date\s*\(/, why: 'time is injected' },
  { pattern: /\bperformance\.now\s*\(/, why: 'time is injected' },
  { pattern: /\bMath\.random\s*\(/, why: 'ids are injected' },
  { pattern: /\bcrypto\./, why: 'ids are injected' },
  { pattern: /\b(setTimeout|setInterval|setImmediate|queueMicrotask)\s*\(/, why: 'no timers in the core' },
  { pattern: /\bprocess\./, why: 'no runtime globals' },
  { pattern: /\bBuffer\b/, why: 'Uint8Array only' },
  { pattern: /from\s+['"]node:/, why: 'no node:* imports' },
  {
    pattern: /from\s+['"](ws|postgres|ioredis|jose|eventemitter3|fs|net|http|https)['"]/,
    why: 'no I/O libraries',
  },
  { pattern: /\b(Deno|Bun)\./, why: 'no runtime-specific globals' },
]

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return path.endsWith('.ts') ? [path] : []
  })
}

/** Code only: comments may explain why the core avoids these. */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1')
}

describe('the core layers stay pure', () => {
  const files = PURE_LAYERS.flatMap((layer) => sourceFiles(join(root, layer)))

  it('finds the core sources', () => {
    expect(files.length).toBeGreaterThan(20)
  })

  for (const layer of PURE_LAYERS) {
    it(`${layer} uses no I/O, clock, randomness or timers`, () => {
      const violations: string[] = []
      for (const file of files.filter((f) => relative(root, f).startsWith(layer))) {
        const code = stripComments(readFileSync(file, 'utf8'))
        for (const { pattern, why } of FORBIDDEN) {
          if (pattern.test(code)) violations.push(`${relative(root, file)}: ${pattern} (${why})`)
        }
      }
      expect(violations).toEqual([])
    })
  }

  it('imports only point down the layers (crdt and protocol never import the engine)', () => {
    const upward: string[] = []
    for (const file of files) {
      const rel = relative(root, file)
      const code = readFileSync(file, 'utf8')
      const imports = [...code.matchAll(/from\s+['"]([^'"]+)['"]/g)].map((m) => m[1] ?? '')
      // Type-only packages have no runtime: the Standard Schema interface is one.
      const typeOnly = new Set(
        [...code.matchAll(/import\s+type\s[^;]*?from\s+['"]([^'"]+)['"]/g)].map((m) => m[1] ?? ''),
      )
      for (const target of imports) {
        const typesPackage = TYPE_ONLY_PACKAGES.has(target) && typeOnly.has(target)
        if (!target.startsWith('.') && !typesPackage) upward.push(`${rel}: imports package ${target}`)
        if (rel.startsWith('src/crdt') && /^\.\.\/(engine|server|client)\//.test(target))
          upward.push(`${rel}: ${target}`)
        if (rel.startsWith('src/protocol') && /^\.\.\/(engine|crdt|server|client)\//.test(target)) {
          upward.push(`${rel}: ${target}`)
        }
        if (rel.startsWith('src/engine') && /\.\.\/(server|client|adapters)\//.test(target))
          upward.push(`${rel}: ${target}`)
      }
    }
    expect(upward).toEqual([])
  })
})

/** Relative imports of every module under `dirs`, resolved to repo paths (`.js` -> `.ts`). */
function importGraph(dirs: string[]): Map<string, string[]> {
  const files = dirs.flatMap((dir) => sourceFiles(join(root, dir)))
  const known = new Set(files)
  const graph = new Map<string, string[]>()
  for (const file of files) {
    const code = readFileSync(file, 'utf8')
    const targets = [...code.matchAll(/from\s+['"](\.[^'"]+)['"]/g)].map((m) =>
      join(dirname(file), (m[1] ?? '').replace(/\.js$/, '.ts')),
    )
    graph.set(
      file,
      targets.filter((target) => known.has(target)),
    )
  }
  return graph
}

describe('the layers above the core', () => {
  /** The contracts live with their layer: none of these needs the runtime. */
  const BELOW_SERVER = ['src/auth', 'src/storage', 'src/cluster', 'src/testing']

  for (const layer of BELOW_SERVER) {
    it(`${layer} imports nothing from src/server`, () => {
      const offending = sourceFiles(join(root, layer)).flatMap((file) => {
        const code = readFileSync(file, 'utf8')
        return [...code.matchAll(/from\s+['"]([^'"]+)['"]/g)]
          .map((m) => m[1] ?? '')
          .filter((target) => /(^|\/)server\//.test(target))
          .map((target) => `${relative(root, file)}: ${target}`)
      })
      expect(offending).toEqual([])
    })
  }

  it('has no import cycles in src and adapters (type imports included)', () => {
    const graph = importGraph(['src', 'adapters'])
    const cycles: string[] = []
    const done = new Set<string>()
    const path: string[] = []
    const visit = (file: string): void => {
      path.push(file)
      for (const target of graph.get(file) ?? []) {
        const at = path.indexOf(target)
        if (at >= 0) cycles.push([...path.slice(at), target].map((f) => relative(root, f)).join(' -> '))
        else if (!done.has(target)) visit(target)
      }
      path.pop()
      done.add(file)
    }
    for (const file of graph.keys()) if (!done.has(file)) visit(file)
    expect(graph.size).toBeGreaterThan(100)
    expect(cycles).toEqual([])
  })
})

describe('the engine keeps its state machine in plain sight', () => {
  const engine = join(root, 'src/engine')
  const engineFiles = sourceFiles(engine)
  const graph = importGraph(['src/engine'])
  const handlers = join(engine, 'handlers')
  const isHandler = (file: string): boolean => dirname(file) === handlers

  it('has one handler module per message type, and they import no other handler', () => {
    expect(engineFiles.filter(isHandler).length).toBeGreaterThan(5)
    const offending: string[] = []
    for (const [file, targets] of graph) {
      if (!isHandler(file)) continue
      for (const target of targets.filter(isHandler))
        offending.push(`${relative(root, file)} -> ${relative(root, target)}`)
    }
    expect(offending).toEqual([])
  })

  it('reaches handlers only through dispatch.ts and receive.ts (never from lifecycle, resolve or a domain module)', () => {
    const routers = new Set(['dispatch.ts', 'receive.ts'].map((name) => join(engine, name)))
    const offending: string[] = []
    for (const [file, targets] of graph) {
      if (isHandler(file) || routers.has(file)) continue
      for (const target of targets.filter(isHandler))
        offending.push(`${relative(root, file)} -> ${relative(root, target)}`)
    }
    expect(offending).toEqual([])
  })

  it('changes a connection’s authentication state only in auth-state.ts', () => {
    const offending: string[] = []
    for (const file of engineFiles) {
      if (file === join(engine, 'auth-state.ts')) continue
      const code = stripComments(readFileSync(file, 'utf8'))
      // An assignment (`x.auth = ...`), or a state written out as an object (`auth: {`).
      for (const pattern of [/\.auth\s*=(?!=)/, /\bauth\s*:\s*\{/, /\bphase\s*:\s*'/]) {
        if (pattern.test(code)) offending.push(`${relative(root, file)}: ${pattern}`)
      }
    }
    expect(offending).toEqual([])
  })
})
