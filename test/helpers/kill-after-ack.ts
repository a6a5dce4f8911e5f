import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '../..')

/**
 * Runs a child process that opens a store with `openStore` (a TypeScript expression over the
 * imports in `imports`, evaluated with `dataDir` bound) and saves one document per `save` call,
 * printing `acked N` after each resolves. SIGKILLs it (no close, no flush) once `killAfter` saves
 * were acked; resolves with the highest acked N once the process is gone.
 */
export async function ackedBeforeSigkill(options: {
  scratchDir: string
  dataDir: string
  imports: string
  openStore: string
  killAfter?: number
}): Promise<number> {
  const script = join(options.scratchDir, `kill-after-ack-${process.pid}-${Date.now()}.mts`)
  await writeFile(
    script,
    `${options.imports}
const dataDir = process.argv[2]
const store = await (${options.openStore})
for (let i = 0; ; i++) {
  const r = { field: 'f', value: i, deleted: false, stamp: { ms: i, counter: 0, node: 'n' }, dot: { node: 'n', seq: i } }
  await store.save([{ documentId: 'doc-' + i, registers: [r], clock: { n: i } }])
  process.stdout.write('acked ' + i + '\\n')
}
`,
  )
  const killAfter = options.killAfter ?? 20
  const proc = spawn(process.execPath, ['--import', 'tsx', script, options.dataDir], { cwd: ROOT })
  const acked = await new Promise<number>((done, fail) => {
    let last = -1
    let buffer = ''
    proc.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString()
      for (const m of buffer.matchAll(/acked (\d+)\n/g)) last = Number(m[1])
      if (last >= killAfter) {
        proc.kill('SIGKILL')
        done(last)
      }
    })
    let stderr = ''
    proc.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    proc.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') fail(new Error(`child exited early (${code}): ${stderr}`))
    })
  })
  await new Promise((done) => proc.once('close', done))
  return acked
}

/** `import { name } from '<repo>/<path>'`, for `ackedBeforeSigkill`'s `imports`. */
export function importFrom(names: string, path: string): string {
  return `import { ${names} } from ${JSON.stringify(join(ROOT, path))}`
}
