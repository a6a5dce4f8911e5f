import { utf8Length } from '../protocol/index.js'
import type { JsonObject } from '../protocol/types.js'
import type { EngineContext } from './context.js'
import { claimEnded, ownerKey } from './owners.js'
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
  ctx: EngineContext,
  connection: Connection,
  entry: DocumentEntry,
  states: readonly TextStateToKeep[],
  messageId?: string,
): number | undefined {
  const max = ctx.limits.maxTextStateBytes
  const latest = new Map<string, number>()
  for (const { clientId, bytes } of states) {
    if (bytes > max) {
      ctx.sendError(connection.id, `Text state too large (${bytes} bytes, max ${max})`, 'LIMIT_EXCEEDED', {
        documentId: entry.id,
        clientId,
        ...(messageId === undefined ? {} : { messageId }),
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
  ctx: EngineContext,
  connection: Connection,
  entry: DocumentEntry,
  { clientId, op, bytes }: TextStateToKeep,
): void {
  dropTextState(entry, clientId)
  entry.textStates.set(clientId, { op, bytes, owner: ownerKey(ctx, connection), conn: connection.id })
  entry.bytes += bytes
  while (entry.textStates.size > ctx.limits.maxTextStatesPerDocument) {
    const victim = evictionVictim(ctx, entry)
    if (victim === undefined) break
    dropTextState(entry, victim)
  }
}

/**
 * Who gives way when a document keeps too many states: one whose anonymous writer is gone, else
 * the least recently updated of whoever keeps the most. One writer with many client ids cannot
 * push the others' states out (and then take their ids). Runs only past the cap, over at most
 * `maxTextStatesPerDocument + 1` states; Map order is insertion order, so the first match is the oldest.
 */
function evictionVictim(ctx: EngineContext, entry: DocumentEntry): string | undefined {
  const counts = new Map<string, number>()
  let most = 0
  for (const kept of entry.textStates.values()) {
    const count = (counts.get(kept.owner) ?? 0) + 1
    counts.set(kept.owner, count)
    most = Math.max(most, count)
  }
  let victim: string | undefined
  for (const [clientId, kept] of entry.textStates) {
    if (claimEnded(ctx, kept.owner, kept.conn)) return clientId
    if (victim === undefined && counts.get(kept.owner) === most) victim = clientId
  }
  return victim
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
export function textStateFrames(ctx: EngineContext, entry: DocumentEntry): JsonObject[][] {
  const max = ctx.limits.maxTextStateBytes
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
