import fc from 'fast-check'

/**
 * Replaying a fast-check failure (loaded before every test file, see vitest.config.ts). A failing
 * property prints its `seed` and counterexample `path`, and a model-based one (`fc.commands`)
 * also a `replayPath` in a comment after the commands:
 *
 *   FC_SEED=<seed> FC_PATH=<path> [FC_REPLAY_PATH=<replayPath>] npx vitest run <file> -t '<name>'
 *
 * runs exactly that counterexample. Properties with a seed of their own (the fuzz suite, see
 * `test/fuzz/config.ts`) keep it, so for them `FC_PATH` is enough. Without these variables
 * nothing changes.
 */
const seed = process.env.FC_SEED
const path = process.env.FC_PATH
if (seed !== undefined || path !== undefined) {
  fc.configureGlobal({
    ...fc.readConfigureGlobal(),
    ...(seed !== undefined ? { seed: Number(seed) } : {}),
    ...(path !== undefined ? { path, endOnFailure: true } : {}),
  })
}

/** `fc.commands` options with `FC_REPLAY_PATH` applied: a command sequence replays only with it. */
export function replayable(options: fc.CommandsContraints): fc.CommandsContraints {
  const replayPath = process.env.FC_REPLAY_PATH
  return replayPath === undefined ? options : { ...options, replayPath }
}
