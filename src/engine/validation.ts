import type { StandardSchemaV1 } from '@standard-schema/spec'
import { matchesPattern } from './rbac.js'
import type {
  DocumentValidator,
  FieldWriteInfo,
  ValidationContext,
  ValidationIssue,
  ValidationRules,
  WriteValidator,
} from './types.js'

/**
 * Write validation (the `validate` option): rules per document-id pattern, run inside the engine
 * on every write, synchronously. A write is one field (last-writer-wins per field), so a rule is
 * either a Standard Schema per field or a function of one field write.
 */

const MAX_ISSUES = 10
const MAX_MESSAGE_LENGTH = 200

interface CompiledSchema {
  readonly name: string
  readonly schema: StandardSchemaV1
  /** Set once an asynchronous answer was reported (reported once, refused every time). */
  reported: boolean
}

interface CompiledFields {
  readonly exact: Map<string, CompiledSchema>
  /** Longest prefix first. */
  readonly prefixes: [string, CompiledSchema][]
  readonly allowUnknown: boolean
}

interface CompiledRule {
  readonly pattern: string
  readonly fields: CompiledFields | undefined
  readonly check: WriteValidator | undefined
}

/** A validator that cannot be used as configured (reported once through the runtime). */
export interface ValidatorFault {
  documentId: string
  field: string
  message: string
}

/** The compiled `validate` option. */
export class WriteValidation {
  readonly #rules: CompiledRule[]

  /** Throws a TypeError naming the rule when a schema is not a Standard Schema or is async. */
  constructor(rules: ValidationRules) {
    if (typeof rules !== 'object' || rules === null) {
      throw new TypeError('Invalid option validate: expected an object of document-id pattern -> rule')
    }
    this.#rules = Object.entries(rules).map(([pattern, rule]) => compileRule(pattern, rule))
  }

  /**
   * The issues of one write, or undefined when every matching rule accepts it. A throwing or
   * asynchronous validator refuses (fail closed) and is reported through `fault`.
   */
  check(
    write: FieldWriteInfo,
    context: ValidationContext,
    fault: (fault: ValidatorFault) => void,
  ): ValidationIssue[] | undefined {
    for (const rule of this.#rules) {
      if (!matchesPattern(rule.pattern, write.documentId)) continue
      const issues = rule.fields
        ? checkFields(rule.fields, write, fault)
        : checkFunction(rule.check as WriteValidator, write, context, fault)
      if (issues) return issues
    }
    return undefined
  }
}

function compileRule(pattern: string, rule: DocumentValidator): CompiledRule {
  const where = `validate[${JSON.stringify(pattern)}]`
  if (typeof rule === 'function') return { pattern, fields: undefined, check: rule }
  if (typeof rule !== 'object' || rule === null || typeof rule.fields !== 'object' || rule.fields === null) {
    throw new TypeError(`Invalid option ${where}: expected { fields: { name: schema } } or a function`)
  }
  if (rule.unknownFields !== undefined && rule.unknownFields !== 'refuse' && rule.unknownFields !== 'allow') {
    throw new TypeError(`Invalid option ${where}.unknownFields: expected 'refuse' or 'allow'`)
  }
  const exact = new Map<string, CompiledSchema>()
  const prefixes: [string, CompiledSchema][] = []
  for (const [name, schema] of Object.entries(rule.fields)) {
    const compiled = {
      name,
      schema: probe(schema, `${where}.fields[${JSON.stringify(name)}]`),
      reported: false,
    }
    if (name.endsWith('*')) prefixes.push([name.slice(0, -1), compiled])
    else exact.set(name, compiled)
  }
  prefixes.sort((a, b) => b[0].length - a[0].length)
  return {
    pattern,
    fields: { exact, prefixes, allowUnknown: rule.unknownFields === 'allow' },
    check: undefined,
  }
}

/**
 * Values a schema is tried on at startup: an async refinement runs (and shows as a Promise) only
 * on a value that passes the type check before it, so one value of each JSON kind is tried.
 */
const PROBES: readonly unknown[] = [undefined, null, '', 0, false, [], {}]

/**
 * A Standard Schema that answers synchronously. An async refinement or transform makes
 * `validate` return a Promise: refused here when a probe shows it (one hidden behind a check the
 * probes fail can slip through: `check` then refuses the write, and reports it).
 */
function probe(schema: StandardSchemaV1, where: string): StandardSchemaV1 {
  const props = (schema as Partial<StandardSchemaV1> | undefined)?.['~standard']
  if (typeof props?.validate !== 'function') {
    throw new TypeError(`Invalid option ${where}: expected a Standard Schema (zod, valibot, arktype...)`)
  }
  const asynchronous = PROBES.some((value) => {
    let result: unknown
    try {
      result = props.validate(value)
    } catch {
      return false // a throwing schema refuses at runtime, like any validator that throws
    }
    if (!isThenable(result)) return false
    result.then(undefined, () => {})
    return true
  })
  if (asynchronous) {
    throw new TypeError(
      `Invalid option ${where}: the schema validates asynchronously (an async refinement or transform). ` +
        'Writes are validated inside the engine and must be checked synchronously.',
    )
  }
  return schema
}

function checkFields(
  fields: CompiledFields,
  write: FieldWriteInfo,
  fault: (fault: ValidatorFault) => void,
): ValidationIssue[] | undefined {
  const compiled = fields.exact.get(write.field) ?? prefixSchema(fields, write.field)
  if (!compiled) {
    if (write.deleted || fields.allowUnknown) return undefined
    return [{ message: `Unknown field: ${write.field.slice(0, 128)}` }]
  }
  let result: unknown
  try {
    result = compiled.schema['~standard'].validate(write.deleted ? undefined : write.value)
  } catch (error) {
    return refuseFaulty(compiled, write, `the schema threw: ${messageOf(error)}`, fault, true)
  }
  if (isThenable(result)) {
    result.then(undefined, () => {})
    return refuseFaulty(compiled, write, 'the schema validates asynchronously; the write was refused', fault)
  }
  const issues = (result as StandardSchemaV1.Result<unknown> | undefined)?.issues
  return issues ? issues.slice(0, MAX_ISSUES).map(toIssue) : undefined
}

function prefixSchema(fields: CompiledFields, field: string): CompiledSchema | undefined {
  for (const [prefix, compiled] of fields.prefixes) if (field.startsWith(prefix)) return compiled
  return undefined
}

function checkFunction(
  check: WriteValidator,
  write: FieldWriteInfo,
  context: ValidationContext,
  fault: (fault: ValidatorFault) => void,
): ValidationIssue[] | undefined {
  let answer: unknown
  try {
    answer = check({ ...write }, context)
  } catch (error) {
    fault({
      documentId: write.documentId,
      field: write.field,
      message: `validator threw: ${messageOf(error)}`,
    })
    return [{ message: 'Invalid value' }]
  }
  if (answer === true) return undefined
  if (isThenable(answer)) {
    answer.then(undefined, () => {})
    fault({
      documentId: write.documentId,
      field: write.field,
      message: 'validator returned a Promise; it must answer synchronously (the write was refused)',
    })
  }
  return [{ message: typeof answer === 'string' && answer ? bounded(answer) : 'Invalid value' }]
}

function refuseFaulty(
  compiled: CompiledSchema,
  write: FieldWriteInfo,
  message: string,
  fault: (fault: ValidatorFault) => void,
  always = false,
): ValidationIssue[] {
  if (always || !compiled.reported) {
    compiled.reported = true
    fault({ documentId: write.documentId, field: write.field, message: `field ${compiled.name}: ${message}` })
  }
  return [{ message: 'Invalid value' }]
}

function toIssue(issue: StandardSchemaV1.Issue): ValidationIssue {
  const result: ValidationIssue = { message: bounded(String(issue.message)) }
  if (issue.path && issue.path.length > 0) {
    result.path = issue.path.slice(0, 16).map((segment) => {
      const key = typeof segment === 'object' && segment !== null ? segment.key : segment
      return typeof key === 'number' ? key : String(key)
    })
  }
  return result
}

function bounded(message: string): string {
  return message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH)}…` : message
}

function messageOf(error: unknown): string {
  return bounded(error instanceof Error ? error.message : String(error))
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
  )
}
