/**
 * Backup benchmark: time and peak RSS of `exportDocuments` and `importDocuments` against Postgres,
 * for 100,000 registers laid out two ways (1,000 documents × 100 fields, and one document with
 * 100,000 fields), plus 4,000 × 100 to show that memory does not grow with the number of documents.
 *
 * Each export and each import runs in a child process of its own, so its peak RSS
 * (`process.resourceUsage().maxRSS`) is that operation's alone; a baseline child that only loads
 * the modules and opens the store gives the floor. The restored schema is then exported again and
 * compared with the file (SHA-256), so a fast but wrong run cannot pass. Medians of BENCH_RUNS runs.
 *
 * Run: `npm run bench:backup` (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test;
 * BENCH_RUNS, default 3; BENCH_HEAP_MB caps the children's V8 heap; BENCH_SCENARIOS picks scenarios
 * by index, e.g. `0,2`). Uses its own schemas and temporary files, removed afterwards.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { finished } from 'node:stream/promises'
import { createPostgresStore } from '../adapters/postgres.js'
import { exportDocuments } from '../src/backup/export.js'
import { importDocuments } from '../src/backup/import.js'
import type { DocumentSnapshot, Register } from '../src/crdt/types.js'
import { DEFAULT_POSTGRES_URL, dropSchema, testSchemaName } from '../test/helpers/services.js'

const URL_ = process.env.DATABASE_URL ?? DEFAULT_POSTGRES_URL
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3))
const CHILD_DEADLINE_MS = 300_000
/** Optional V8 heap cap of the export/import children (MiB): if memory grew with the data, they would run out. */
const HEAP_MB = process.env.BENCH_HEAP_MB

interface Scenario {
  name: string
  documents: number
  fields: number
}

const SCENARIOS: Scenario[] = [
  { name: '1,000 documents × 100 fields', documents: 1000, fields: 100 },
  { name: '1 document × 100,000 fields', documents: 1, fields: 100_000 },
  { name: '4,000 documents × 100 fields', documents: 4000, fields: 100 },
]

interface Measure {
  ms: number
  maxRssMiB: number
}

const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10

function register(d: number, f: number): Register {
  const ms = 1_700_000_000_000 + f
  return {
    field: `field-${String(f).padStart(6, '0')}`,
    value: f % 10 === 0 ? null : { d, f, text: `value ${d}/${f}`, tags: ['a', 'b'] },
    deleted: f % 10 === 0,
    stamp: { ms, counter: f % 3, node: f % 2 ? 'node-a' : 'node-b' },
    dot: { node: f % 2 ? 'node-a' : 'node-b', seq: f + 1 },
  }
}

async function fill(schema: string, scenario: Scenario): Promise<void> {
  const store = await createPostgresStore({ url: URL_, schema, max: 2 })
  try {
    let batch: DocumentSnapshot[] = []
    let size = 0
    for (let d = 0; d < scenario.documents; d++) {
      for (let start = 0; start < scenario.fields; start += 5000) {
        const registers: Register[] = []
        for (let f = start; f < Math.min(scenario.fields, start + 5000); f++) registers.push(register(d, f))
        batch.push({
          documentId: `doc-${String(d).padStart(5, '0')}`,
          registers,
          clock: { 'node-a': scenario.fields, 'node-b': scenario.fields },
        })
        size += registers.length
        if (size >= 5000) {
          await store.save(batch)
          batch = []
          size = 0
        }
      }
    }
    if (batch.length > 0) await store.save(batch)
  } finally {
    await store.close()
  }
}

/** Child side: one operation, then its time and peak RSS on stdout. */
async function child(phase: string, schema: string, file: string): Promise<void> {
  const store = await createPostgresStore({ url: URL_, schema, max: 2 })
  const started = performance.now()
  try {
    if (phase === 'export') {
      const out = createWriteStream(file)
      await exportDocuments(store, out)
      out.end()
      await finished(out)
    } else if (phase === 'import') {
      await importDocuments(store, createReadStream(file))
    } else {
      await store.list({ limit: 1 })
    }
  } finally {
    await store.close()
  }
  const measure: Measure = { ms: performance.now() - started, maxRssMiB: mib(process.resourceUsage().maxRSS) }
  process.stdout.write(`${JSON.stringify(measure)}\n`)
}

function runChild(phase: string, schema: string, file: string): Promise<Measure> {
  return new Promise((resolve, reject) => {
    const script = process.argv[1] as string
    const heap = HEAP_MB === undefined ? [] : [`--max-old-space-size=${HEAP_MB}`]
    const proc = spawn(process.execPath, [...heap, script, 'child', phase, schema, file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    proc.stdout.on('data', (chunk: Buffer) => {
      out += chunk
    })
    const timer = setTimeout(() => proc.kill('SIGKILL'), CHILD_DEADLINE_MS)
    proc.on('exit', (code) => {
      clearTimeout(timer)
      if (code !== 0) reject(new Error(`${phase} child exited with ${code}`))
      else resolve(JSON.parse(out.trim()) as Measure)
    })
  })
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

async function sha256OfExport(schema: string): Promise<string> {
  const store = await createPostgresStore({ url: URL_, schema, max: 2 })
  const hash = createHash('sha256')
  try {
    await exportDocuments(
      store,
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          hash.update(chunk)
          callback()
        },
      }),
    )
  } finally {
    await store.close()
  }
  return hash.digest('hex')
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] as number
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'synckit-bench-backup-'))
  const schemas: string[] = []
  const fresh = () => {
    const schema = testSchemaName()
    schemas.push(schema)
    return schema
  }
  try {
    const baselineSchema = fresh()
    await (await createPostgresStore({ url: URL_, schema: baselineSchema, max: 1 })).close()
    const baseline = median(
      await Promise.all([0, 1, 2].map(() => runChild('baseline', baselineSchema, ''))).then((m) =>
        m.map((x) => x.maxRssMiB),
      ),
    )
    console.log(`baseline (modules loaded, store open): peak RSS ${baseline} MiB`)
    console.log(
      '| registers | layout | export time | export peak RSS | import time | import peak RSS | file |',
    )
    console.log('| --- | --- | --- | --- | --- | --- | --- |')
    const picked = process.env.BENCH_SCENARIOS?.split(',').map(Number) ?? SCENARIOS.map((_, i) => i)
    for (const scenario of SCENARIOS.filter((_, i) => picked.includes(i))) {
      const source = fresh()
      await fill(source, scenario)
      const exports: Measure[] = []
      const imports: Measure[] = []
      let size = 0
      for (let run = 0; run < RUNS; run++) {
        const file = join(dir, `${source}-${run}.jsonl`)
        exports.push(await runChild('export', source, file))
        size = (await stat(file)).size
        const target = fresh()
        await (await createPostgresStore({ url: URL_, schema: target, max: 1 })).close()
        imports.push(await runChild('import', target, file))
        const [expected, actual] = await Promise.all([sha256OfFile(file), sha256OfExport(target)])
        if (expected !== actual)
          throw new Error(`${scenario.name}: the restored schema exports different bytes`)
        await dropSchema(URL_, target)
        await rm(file)
      }
      const registers = (scenario.documents * scenario.fields).toLocaleString('en-US')
      console.log(
        `| ${registers} | ${scenario.name} | ${(median(exports.map((m) => m.ms)) / 1000).toFixed(2)} s | ${median(exports.map((m) => m.maxRssMiB))} MiB | ${(median(imports.map((m) => m.ms)) / 1000).toFixed(2)} s | ${median(imports.map((m) => m.maxRssMiB))} MiB | ${(size / 1024 / 1024).toFixed(1)} MiB |`,
      )
      await dropSchema(URL_, source)
    }
  } finally {
    for (const schema of schemas) await dropSchema(URL_, schema).catch(() => {})
    await rm(dir, { recursive: true, force: true })
  }
}

const [mode, phase, schema, file] = process.argv.slice(2)
if (mode === 'child') await child(phase as string, schema as string, file as string)
else await main()
