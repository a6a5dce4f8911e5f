import { utf8Length } from '../protocol/index.js'
import type { JsonObject } from '../protocol/types.js'
import type { EngineCore } from './core.js'
import { ownerKey } from './owners.js'
import type { Connection, DocumentEntry } from './state.js'

/** A `text-state` op of one message, ready to keep: its client id and its JSON size. */
export interface TextStateToKeep {
  readonly clientId: string
  readonly op: JsonObject
  readonly bytes: number
}

/**
 * Kept `text-state` ops: the latest per client id, relayed to the other subscribers and sent to
 * late joiners (merging all of them is a join, so a late joiner reaches the converged text). They
 * count against the document's byte quota like fields, each op against `maxTextStateBytes`.
 */
export function measureTextState(clientId: string, op: JsonObject): TextStateToKeep {
  return { clientId, op, bytes: utf8Length(JSON.stringify(op)) }
}

/**
 * Quota growth of keeping `states` (the last op per client id counts), or undefined when one is
 * over `maxTextStateBytes` (the writer is told; the message is refused whole, like a field value).
 */
export function textStateGrowth(
  core: EngineCore,
  connection: Connection,
  entry: DocumentEntry,
  states: readonly TextStateToKeep[],
): number | undefined {
  const max = core.limits.maxTextStateBytes
  const latest = new Map<string, number>()
  for (const { clientId, bytes } of states) {
    if (bytes > max) {
      core.sendError(connection.id, `Text state too large (${bytes} bytes, max ${max})`, 'LIMIT_EXCEEDED', {
        documentId: entry.id,
        clientId,
      })
      return undefined
    }
    latest.set(clientId, bytes)
  }
  let growth = 0
  for (const [clientId, bytes] of latest) growth += bytes - (entry.textStates.get(clientId)?.bytes ?? 0)
  return growth
}

export function keepTextState(
  core: EngineCore,
  connection: Connection,
  entry: DocumentEntry,
  { clientId, op, bytes }: TextStateToKeep,
): void {
  dropTextState(entry, clientId)
  entry.textStates.set(clientId, { op, bytes, owner: ownerKey(core, connection), conn: connection.id })
  entry.bytes += bytes
  // Map iteration order is insertion order: the first key is the least recently updated client.
  while (entry.textStates.size > core.limits.maxTextStatesPerDocument) {
    const oldest = entry.textStates.keys().next()
    if (oldest.done) break
    dropTextState(entry, oldest.value)
  }
}

function dropTextState(entry: DocumentEntry, clientId: string): void {
  const kept = entry.textStates.get(clientId)
  if (kept === undefined) return
  entry.textStates.delete(clientId)
  entry.bytes -= kept.bytes
}

/** The most recently kept state, for `sync_response.textState`. */
export function latestTextState(entry: DocumentEntry): string | undefined {
  let latest: JsonObject | undefined
  for (const kept of entry.textStates.values()) latest = kept.op
  const state = latest?.state
  return typeof state === 'string' ? state : undefined
}

/**
 * The kept ops for a late joiner, grouped into frames of at most `maxTextStateBytes` of ops each
 * (one op always fits): several ordinary frames instead of one as large as the document quota.
 */
export function textStateFrames(core: EngineCore, entry: DocumentEntry): JsonObject[][] {
  const max = core.limits.maxTextStateBytes
  const frames: JsonObject[][] = []
  let frame: JsonObject[] = []
  let bytes = 0
  for (const kept of entry.textStates.values()) {
    if (frame.length > 0 && bytes + kept.bytes + 1 > max) {
      frames.push(frame)
      frame = []
      bytes = 0
    }
    frame.push(kept.op)
    bytes += kept.bytes + 1
  }
  if (frame.length > 0) frames.push(frame)
  return frames
}
