/**
 * Where a server's CPU went: self time of a `.cpuprofile` (from `npm run bench:e2e -- --cpu-prof`)
 * per function and per area (engine, runtime, protocol, ws, store, node internals, GC).
 *
 *   npx tsx bench/e2e/profile-summary.ts .tmp/bench-e2e/profiles/server-memory.cpuprofile [top]
 */
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const [file, topArg] = process.argv.slice(2)
if (!file) {
  console.error('usage: profile-summary <file.cpuprofile> [top]')
  process.exit(1)
}
const top = Number(topArg ?? 40)
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const selfUs = new Map<number, number>()
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i] as number
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
}

const AREAS: [string, RegExp][] = [
  ['engine', /\/src\/(engine|crdt)\//],
  ['protocol', /\/src\/protocol\//],
  ['runtime', /\/src\/server\//],
  ['adapter', /\/adapters\//],
  ['store', /\/src\/storage\/|pglite|postgres/],
  ['ws', /node_modules\/ws\//],
  ['node', /^node:|^internal\//],
]

function area(node: ProfileNode): string {
  const { functionName, url } = node.callFrame
  if (functionName === '(idle)') return 'idle'
  if (functionName === '(garbage collector)') return 'gc'
  if (functionName === '(program)') return 'program'
  for (const [name, pattern] of AREAS) if (pattern.test(url)) return name
  // Bundled runs: one file, so the function's own name is the only hint.
  return url ? `other (${url.split('/').slice(-2).join('/')})` : 'native'
}

const keyOf = (node: ProfileNode) =>
  `${node.callFrame.functionName || '(anonymous)'}  ${node.callFrame.url.split('/').slice(-2).join('/')}:${node.callFrame.lineNumber + 1}`

const perFunction = new Map<string, number>()
const perArea = new Map<string, number>()
let total = 0
let busy = 0
for (const [id, us] of selfUs) {
  const node = byId.get(id)
  if (!node) continue
  total += us
  const a = area(node)
  if (a !== 'idle') busy += us
  perArea.set(a, (perArea.get(a) ?? 0) + us)
  const key = keyOf(node)
  perFunction.set(key, (perFunction.get(key) ?? 0) + us)
}

// Inclusive time: each sample counts once for every distinct function on its stack.
const parent = new Map<number, number>()
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
const inclusive = new Map<string, number>()
for (let i = 0; i < profile.samples.length; i++) {
  const seen = new Set<string>()
  let id: number | undefined = profile.samples[i]
  const first = id === undefined ? undefined : byId.get(id)
  if (!first || area(first) === 'idle') continue
  while (id !== undefined) {
    const node = byId.get(id)
    if (!node) break
    const key = keyOf(node)
    if (!seen.has(key)) {
      seen.add(key)
      inclusive.set(key, (inclusive.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0))
    }
    id = parent.get(id)
  }
}

const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`
console.log(
  `${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s not idle (percentages of that)`,
)
console.log('\nby area')
for (const [name, us] of [...perArea].filter(([n]) => n !== 'idle').sort((a, b) => b[1] - a[1])) {
  console.log(`  ${pct(us)}  ${name}`)
}
console.log(`\ntop ${top} functions by self time`)
for (const [name, us] of [...perFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`  ${pct(us)}  ${name}`)
}
console.log(`\ntop ${top} functions by inclusive time`)
for (const [name, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`  ${pct(us)}  ${name}`)
}
