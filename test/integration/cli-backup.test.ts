import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { createPostgresStore } from '../../adapters/postgres.js'
import { importFromSyncKit } from '../../src/backup/synckit.js'
import { createSyncClient } from '../../src/client/index.js'
import type { SyncClient } from '../../src/client/types.js'
import { MemoryStore } from '../../src/storage/memory-store.js'
import { createSqliteStore } from '../../src/storage/sqlite.js'
import { exportToString, SYNCKIT_TABLES, sampleDocuments } from '../helpers/backup-fixtures.js'
import { runCommand, runProgram } from '../helpers/cli-command.js'
import { type NodeProcess, startNode } from '../helpers/node-process.js'
import { dropSchema, postgresAvailable, testSchemaName } from '../helpers/services.js'
import { within } from '../helpers/wait-for.js'

/** `synckit-engine export` and `import` as real processes, on real stores. */

const pg = await postgresAvailable()
if ('skip' in pg) console.warn(`skipping the Postgres cases of the CLI backup tests: ${pg.skip}`)
const url = 'url' in pg ? pg.url : ''

const dirs: string[] = []
const schemas: string[] = []
const nodes: NodeProcess[] = []
const clients: SyncClient[] = []
afterEach(async () => {
  for (const client of clients.splice(0)) client.close()
  for (const node of nodes.splice(0)) await node.kill()
})
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  for (const schema of schemas) await dropSchema(url, schema)
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'synckit-cli-backup-'))
  dirs.push(dir)
  return dir
}

/** An embedded data directory holding `sampleDocuments()` (tombstones, stamps, clocks, odd keys). */
async function embeddedWithSamples(): Promise<string> {
  const dataDir = join(await tempDir(), 'data')
  const store = await createSqliteStore({ dataDir })
  await store.save(sampleDocuments())
  await store.close()
  return dataDir
}

/** The export of `sampleDocuments()`: the same bytes from every store. */
async function expectedExport(): Promise<string> {
  const memory = new MemoryStore()
  await memory.save(sampleDocuments())
  return exportToString(memory)
}

async function connectedClient(wsUrl: string, documentId: string): Promise<SyncClient> {
  const client = createSyncClient({ url: wsUrl, WebSocket, reconnect: false, requestTimeoutMs: 10_000 })
  clients.push(client)
  await within(client.connect(), 10_000, `connect ${wsUrl}`)
  await within(client.subscribe(documentId), 10_000, `subscribe ${documentId}`)
  return client
}

describe.skipIf('skip' in pg)('synckit-engine export / import: embedded → Postgres', () => {
  it('round-trips byte-exact, and importing twice changes nothing', async () => {
    const dataDir = await embeddedWithSamples()
    const out = join(await tempDir(), 'backup.jsonl')
    const exported = await runCommand(['export', '--data', dataDir, '--out', out])
    expect(exported.code, exported.stderr).toBe(0)
    expect(exported.stdout).toBe('')
    // Not a terminal: plain progress lines, the last one with the totals.
    expect(exported.stderr).toMatch(/^export: 100% 4\/4 documents, 260 registers, .* in \d+:\d\d$/m)
    expect(existsSync(`${out}.partial`)).toBe(false)
    const file = await readFile(out, 'utf8')
    expect(file).toBe(await expectedExport())

    const schema = testSchemaName()
    schemas.push(schema)
    const env = { DATABASE_URL: url, SYNCKIT_PG_SCHEMA: schema }
    const first = await runCommand(['import', out], { env })
    expect(first.code, first.stderr).toBe(0)
    expect(first.stderr).toMatch(/^import: 100% 4 documents, 260 registers/m)
    const store = await createPostgresStore({ url, schema, max: 1 })
    try {
      expect(await exportToString(store)).toBe(file)
      const second = await runCommand(['import', out], { env })
      expect(second.code, second.stderr).toBe(0)
      expect(await exportToString(store)).toBe(file)
    } finally {
      await store.close()
    }
    // And back out of Postgres through the CLI, to stdout: the same bytes again.
    const fromPostgres = await runCommand(['export'], { env })
    expect(fromPostgres.code, fromPostgres.stderr).toBe(0)
    expect(fromPostgres.stdout).toBe(file)
  }, 120_000)

  it('--from-synckit copies a SyncKit database into the configured store, as the library does', async () => {
    const source = testSchemaName()
    schemas.push(source)
    const sql = postgres(url, { max: 1, onnotice: () => {} })
    try {
      await sql.unsafe(`create schema "${source}"`)
      await sql.begin(async (tx) => {
        await tx.unsafe(`set local search_path to "${source}"`)
        for (const ddl of SYNCKIT_TABLES) await tx.unsafe(ddl)
        await tx.unsafe(
          `insert into documents (id, state, updated_at) values
             ('board', '{"id":"board","fields":{"title":"Plan","owner":null,"tags":["a"]}}', '2024-05-01T10:00:00Z'),
             ('notes', '{"type":"text","content":"hi"}', '2024-05-01T10:00:00Z')`,
        )
        await tx.unsafe(
          `insert into deltas (document_id, client_id, operation_type, field_path, value, clock_value, timestamp)
           values ('board', 'conn-1', 'delete', 'draft', null, 2, '2024-05-01T09:00:00Z')`,
        )
        await tx.unsafe(
          "insert into vector_clocks (document_id, client_id, clock_value) values ('board', 'conn-1', 2)",
        )
      })
    } finally {
      await sql.end({ timeout: 5 })
    }
    const dataDir = join(await tempDir(), 'data')
    const run = await runCommand([
      'import',
      '--from-synckit',
      url,
      '--synckit-schema',
      source,
      '--data',
      dataDir,
    ])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain('skipped 1 text document(s) (no field form): notes')

    const expected = new MemoryStore()
    await importFromSyncKit(url, expected, { schema: source })
    const imported = await createSqliteStore({ dataDir })
    try {
      expect(await exportToString(imported)).toBe(await exportToString(expected))
      expect((await imported.load('board'))?.registers.map((r) => [r.field, r.deleted])).toEqual([
        ['draft', true],
        ['owner', false],
        ['tags', false],
        ['title', false],
      ])
    } finally {
      await imported.close()
    }
  }, 120_000)
})

// util-linux `script` runs the command on a pseudo-terminal (its options differ on macOS and BSD).
describe.skipIf(process.platform !== 'linux')('synckit-engine export on a terminal', () => {
  it('draws a progress bar in place on stderr', async () => {
    const dataDir = await embeddedWithSamples()
    const out = join(await tempDir(), 'tty.jsonl')
    const command = `'${process.execPath}' --import tsx src/cli.ts export --data '${dataDir}' --out '${out}'`
    const run = await runProgram('script', ['-qec', command, '/dev/null'])
    expect(run.code, run.stdout).toBe(0)
    // Carriage return and erase-line, then the bar; the final draw ends the line.
    expect(run.stdout).toContain(`\r\x1b[2Kexport [${'#'.repeat(20)}] 100% 4/4 documents, 260 registers, `)
    expect(run.stdout).toMatch(/\] 100% 4\/4 documents, 260 registers, [^\r\n]* in \d+:\d\d\r?\n/)
    expect(await readFile(out, 'utf8')).toBe(await expectedExport())
  }, 60_000)
})

describe('synckit-engine import: bad input', () => {
  it('a malformed line stops the import with its line number and exit 1; the lines before it stay', async () => {
    const valid = (await expectedExport()).split('\n')
    const dir = await tempDir()
    const bad = join(dir, 'bad.jsonl')
    await writeFile(bad, `${valid[0]}\n${valid[1]}\n{"document":"x","registers":[}\n`)
    const dataDir = join(dir, 'data')
    const run = await runCommand(['import', bad, '--data', dataDir])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(
      /^synckit-engine: import failed: line 3: not JSON \(.+\)\. The documents before/m,
    )
    const store = await createSqliteStore({ dataDir })
    try {
      expect(await store.list()).toEqual(['doc-a'])
    } finally {
      await store.close()
    }
  }, 60_000)

  it('--dry-run checks a whole file without opening the store; FILE - reads stdin', async () => {
    const file = await expectedExport()
    const dataDir = join(await tempDir(), 'never-created')
    const dry = await runCommand(['import', '-', '--dry-run', '--data', dataDir], { stdin: file })
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stderr).toContain('dry run: 4 documents, 260 registers are valid; nothing written')
    expect(existsSync(dataDir)).toBe(false)

    const truncated = file.split('\n').slice(0, -2).join('\n')
    const refused = await runCommand(['import', '-', '--dry-run'], { stdin: truncated })
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('dry run failed: the input ends without its end line (truncated?)')
  }, 60_000)

  it('refuses bad arguments before touching any store: exit 1 naming the argument', async () => {
    const cases: [string[], string][] = [
      [['import'], 'Missing FILE: synckit-engine import FILE, or --from-synckit postgres://...'],
      [['import', 'a.jsonl', 'b.jsonl'], 'Unexpected argument "b.jsonl" (see --help)'],
      [['import', '/nonexistent/backup.jsonl'], 'Cannot read FILE "/nonexistent/backup.jsonl": ENOENT'],
      [
        ['import', '--from-synckit', 'mysql://db/x'],
        'Invalid --from-synckit "mysql://db/x": expected a postgres:// URL',
      ],
      [['export', '--storage', 'memory'], 'Invalid --storage "memory" for export'],
      [['export', '--verbose'], 'Unknown option "--verbose" (see --help)'],
      [['backup'], 'Unknown command "backup" (commands: start, export, import, docs; see --help)'],
    ]
    for (const [args, message] of cases) {
      const run = await runCommand(args)
      expect(run.code, args.join(' ')).toBe(1)
      expect(run.stderr, args.join(' ')).toContain(`synckit-engine: ${message}`)
    }
    const help = await runCommand(['import', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('synckit-engine import --from-synckit postgres://')
  }, 120_000)
})

describe('synckit-engine export while a server holds the data directory', () => {
  it('reads a consistent snapshot without the lock; import is refused with the lock error', async () => {
    const dataDir = join(await tempDir(), 'data')
    const node = await startNode({ nodeId: 'backup-node', storage: 'embedded', dataDir })
    nodes.push(node)
    const writer = await connectedClient(node.url, 'live-doc')
    // Resolves on the durable ack: committed to SQLite.
    await within(writer.setMany('live-doc', { title: 'before export', n: 1 }), 10_000, 'write')

    const run = await runCommand(['export', '--data', dataDir])
    expect(run.code, run.stderr).toBe(0)
    const lines = run.stdout.trimEnd().split('\n')
    expect(JSON.parse(lines.at(-1) as string)).toEqual({ documents: 1, end: true, registers: 2 })
    const doc = JSON.parse(lines[1] as string) as {
      document: string
      registers: { field: string; value: unknown }[]
    }
    expect(doc.document).toBe('live-doc')
    expect(doc.registers.map((r) => [r.field, r.value])).toEqual([
      ['n', 1],
      ['title', 'before export'],
    ])

    const backup = join(await tempDir(), 'live.jsonl')
    await writeFile(backup, run.stdout)
    const refused = await runCommand(['import', backup, '--data', dataDir])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(
      new RegExp(
        `cannot open storage embedded \\(SQLite in ${dataDir}\\): data directory .* is in use by process ${node.child.pid}`,
      ),
    )

    // The server kept its lock and keeps serving.
    await within(writer.set('live-doc', 'title', 'after export'), 10_000, 'write after')
    expect(node.child.exitCode).toBeNull()
  }, 120_000)
})
