import process from 'node:process'
import type { SyncServerOptions } from '../../src/server/index.js'
import { CONFORMANCE_OPTIONS, DOOR_OPTIONS } from './fixture-options.js'

// Kept out of fixture-options.ts, which the Worker bundle imports: no Node module may reach it.

/** The options a spawned fixture runs with: the conformance ones unless `SYNCKIT_FIXTURE` says. */
export function fixtureOptions(): SyncServerOptions {
  return process.env.SYNCKIT_FIXTURE === 'door' ? DOOR_OPTIONS : CONFORMANCE_OPTIONS
}
