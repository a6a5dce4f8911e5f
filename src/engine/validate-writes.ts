import type { JsonValue } from '../protocol/types.js'
import type { EngineContext } from './context.js'
import type { Connection, DocumentEntry } from './state.js'
import type { ValidationContext, ValidationIssue } from './types.js'
import type { ValidatorFault } from './validation.js'

/**
 * Checks a client's writes before any is applied. Invalid fields get `error VALIDATION_FAILED
 * {documentId, field, issues}`; the message is then refused whole (the all-or-nothing rule of the
 * quotas) and `rollback` is called once per field written, so the writer's replica adopts the
 * authoritative values again. Returns true when refused.
 */
export function refuseInvalidWrites(
  ctx: EngineContext,
  connection: Connection,
  entry: DocumentEntry,
  writes: readonly { field: string; value?: JsonValue; deleted: boolean }[],
  rollback: (ctx: EngineContext, connection: Connection, entry: DocumentEntry, field: string) => void,
  messageId?: string,
): boolean {
  const context: ValidationContext = {
    connectionId: connection.id,
    principal: connection.principal,
    context: connection.context,
  }
  const invalid = invalidWrites(ctx, entry, writes, context)
  for (const { field, issues } of invalid) {
    ctx.sendError(connection.id, `Invalid value for field ${field}`, 'VALIDATION_FAILED', {
      documentId: entry.id,
      field,
      issues,
      ...(messageId !== undefined ? { messageId } : {}),
    })
  }
  const refused = invalid.length > 0
  if (!refused) return false
  const rolledBack = new Set<string>()
  for (const { field } of writes) {
    if (rolledBack.has(field)) continue
    rolledBack.add(field)
    rollback(ctx, connection, entry, field)
  }
  return true
}

/**
 * The writes the `validate` option refuses, each with its issues (field names cut to 128
 * characters); empty when every write is valid or nothing is validated. Shared by client writes
 * and the server-side API (whose `context` has no connection).
 */
export function invalidWrites(
  ctx: EngineContext,
  entry: DocumentEntry,
  writes: readonly { field: string; value?: JsonValue; deleted: boolean }[],
  context: ValidationContext,
): { field: string; issues: ValidationIssue[] }[] {
  const validation = ctx.validation
  if (!validation) return []
  const fault = (found: ValidatorFault) => ctx.emit({ type: 'validator-fault', ...found })
  const invalid: { field: string; issues: ValidationIssue[] }[] = []
  for (const write of writes) {
    const issues = validation.check(
      {
        documentId: entry.id,
        field: write.field,
        value: write.deleted ? undefined : (write.value ?? null),
        deleted: write.deleted,
      },
      context,
      fault,
    )
    if (issues) invalid.push({ field: write.field.slice(0, 128), issues })
  }
  return invalid
}
