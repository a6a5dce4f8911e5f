import type { Register } from '../crdt/types.js'
import type { EngineContext } from './context.js'
import type { Connection, DocumentEntry } from './state.js'
import type { ChangeActor, DocumentChangeEngineEvent, EngineEvent } from './types.js'

/**
 * Who wrote what in a turn, for the `document-change` event: one event per document and writer.
 * Most turns have one writer per document, so a map of field to writer is only made once a
 * second writer appears in the same turn (the hot path stores one reference per write).
 */

/**
 * A connection, or the server itself: `'server'` (an `onLoadDocument` seed) or the actor a
 * server-side write named (`sync.documents.update(id, change, { actor })`).
 */
export type Writer = Connection | string

/** Records that `writer` applied `field` in this turn (after `markApplied`). */
export function noteWriter(entry: DocumentEntry, field: string, writer: Writer): void {
  if (entry.writers !== undefined) {
    entry.writers.set(field, writer)
    return
  }
  if (entry.writer === undefined || entry.writer === writer) {
    entry.writer = writer
    return
  }
  // A second writer: every field announced so far is the first writer's.
  const writers = new Map<string, Writer>()
  for (const announced of changesOf(entry).keys()) writers.set(announced, entry.writer)
  writers.set(field, writer)
  entry.writers = writers
}

/** Emits the turn's `document-change` events of one document, one per writer, and resets. */
export function announceChanges(ctx: EngineContext, entry: DocumentEntry): void {
  const changes = changesOf(entry)
  if (changes.size === 0) return
  // An array of its own per event: listeners get it, and must not touch what is persisted.
  if (entry.writers === undefined) {
    emitChange(ctx, entry.id, Array.from(changes.values()), entry.writer ?? 'server')
  } else {
    const byWriter = new Map<Writer, Register[]>()
    for (const [field, register] of changes) {
      const writer = entry.writers.get(field) ?? 'server'
      const list = byWriter.get(writer)
      if (list) list.push(register)
      else byWriter.set(writer, [register])
    }
    for (const [writer, registers] of byWriter) emitChange(ctx, entry.id, registers, writer)
  }
  entry.changesToAnnounce = undefined
  entry.writer = undefined
  entry.writers = undefined
}

/** The registers applied this turn: `dirty` itself unless a failed batch put some back (state.ts). */
function changesOf(entry: DocumentEntry): Map<string, Register> {
  return entry.changesToAnnounce ?? entry.dirty
}

function emitChange(ctx: EngineContext, documentId: string, registers: Register[], writer: Writer): void {
  const actor: ChangeActor =
    typeof writer === 'string'
      ? writer === 'server'
        ? { kind: 'server' }
        : { kind: 'server', name: writer }
      : { kind: 'connection', conn: writer.id, userId: writer.principal?.userId ?? '' }
  const event: Extract<EngineEvent, { type: 'document-change' }> = {
    type: 'document-change',
    documentId,
    registers,
    origin: 'local',
    actor,
  }
  // Set only when there is one: a spread would cost an object per event on the write path.
  if (typeof writer !== 'string' && writer.context !== undefined) event.context = writer.context
  ctx.emit(event)
  // Announced again as committed once the batch that holds these registers is durable.
  ctx.changesThisTurn.push(event)
}

/** Changes of one document kept for a retried commit before they are merged (`compactChanges`). */
export const MAX_UNCOMMITTED_CHANGES = 256

/**
 * The changes as one per writer, each field with its latest register: what a store outage keeps
 * for `document-committed` stays bounded by writers × fields, however many writes it sees.
 */
export function compactChanges(changes: readonly DocumentChangeEngineEvent[]): DocumentChangeEngineEvent[] {
  const byWriter = new Map<string, { event: DocumentChangeEngineEvent; registers: Map<string, Register> }>()
  for (const change of changes) {
    const { actor } = change
    const key =
      actor.kind === 'connection'
        ? `c:${actor.conn}`
        : actor.kind === 'server'
          ? `s:${actor.name ?? ''}`
          : 'r'
    let merged = byWriter.get(key)
    if (!merged) {
      merged = { event: change, registers: new Map() }
      byWriter.set(key, merged)
    }
    for (const register of change.registers) {
      // The last writer of a field reports it, so the merged events never disagree on its value.
      for (const other of byWriter.values()) other.registers.delete(register.field)
      merged.registers.set(register.field, register)
    }
  }
  return [...byWriter.values()]
    .filter(({ registers }) => registers.size > 0)
    .map(({ event, registers }) => ({ ...event, registers: [...registers.values()] }))
}
