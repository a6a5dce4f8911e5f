#!/usr/bin/env node
/**
 * `synckit-engine` / `npm start`: the standalone sync server (`start`, the default command) and the
 * `export` / `import` commands. `synckit-engine --help` lists them; each has its own `--help`.
 */
import { runCli } from './cli/main.js'

runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
}).then(
  (result) => {
    // One-shot commands end when their work is done; the server exits from its signal handlers.
    if (result !== 'serving') process.exitCode = result
  },
  (error: unknown) => {
    console.error('synckit-engine: failed:', error)
    process.exit(1)
  },
)
