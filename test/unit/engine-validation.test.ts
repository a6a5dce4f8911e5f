import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import type { EngineEvent, ValidationRules } from '../../src/engine/types.js'
import { EngineHarness } from '../helpers/engine-harness.js'

/** The `validate` option, through the engine: the refused field rolls back, nothing of its message applies. */

const TODO_ZOD: ValidationRules = {
  'todo:*': { fields: { title: z.string().max(20), done: z.boolean(), note: z.string().optional() } },
}
const TODO_VALIBOT: ValidationRules = {
  'todo:*': {
    fields: { title: v.pipe(v.string(), v.maxLength(20)), done: v.boolean(), note: v.optional(v.string()) },
  },
}

function harness(
  validate: ValidationRules,
  extra: Partial<ConstructorParameters<typeof EngineHarness>[0]> = {},
) {
  const h = new EngineHarness({ validate, ...extra })
  h.open('a')
  h.send('a', 'subscribe', { documentId: 'todo:1' })
  h.take('a')
  return h
}

function faults(h: EngineHarness): EngineEvent[] {
  return h.effects.flatMap((e) => (e.kind === 'emit' && e.event.type === 'validator-fault' ? [e.event] : []))
}

for (const [library, rules] of [
  ['zod', TODO_ZOD],
  ['valibot', TODO_VALIBOT],
] as const) {
  describe(`validate with ${library}`, () => {
    it('refuses a bad value with VALIDATION_FAILED and the rollback echo; a good value goes through', () => {
      const h = harness(rules)
      h.send('a', 'delta', { documentId: 'todo:1', delta: { title: 'milk' }, messageId: 'good' })
      expect(h.engine.documentState('todo:1')).toEqual({ title: 'milk' })
      h.take('a')
      h.send('a', 'delta', { documentId: 'todo:1', delta: { done: 'yes' }, messageId: 'bad' })
      const [error] = h.ofType('a', 'error')
      expect(error?.details).toMatchObject({ code: 'VALIDATION_FAILED', documentId: 'todo:1', field: 'done' })
      const issues = (error?.details as { issues?: { message: string }[] } | undefined)?.issues ?? []
      expect(issues.length).toBeGreaterThan(0)
      expect(typeof issues[0]?.message).toBe('string')
      // The authoritative value (none yet: a delete marker) rolls the writer's replica back.
      expect(h.ofType('a', 'delta')).toMatchObject([
        { documentId: 'todo:1', field: 'done', value: { __deleted: true }, clientId: 'server' },
      ])
      expect(h.ofType('a', 'ack')).toEqual([])
      expect(h.engine.documentState('todo:1')).toEqual({ title: 'milk' })
      expect([...(h.store.get('todo:1')?.registers.map((r) => r.field) ?? [])]).toEqual(['title'])
    })

    it('refuses the whole message when one of its fields is invalid, rolling every field back', () => {
      const h = harness(rules)
      h.send('a', 'delta', { documentId: 'todo:1', delta: { title: 'old' } })
      h.take('a')
      h.send('a', 'delta', { documentId: 'todo:1', delta: { title: 'new', done: 3 }, messageId: 'm' })
      expect(h.engine.documentState('todo:1')).toEqual({ title: 'old' })
      expect(h.ofType('a', 'error').map((e) => e.details?.field)).toEqual(['done'])
      const echoes = h.ofType('a', 'delta').map((d) => [d.field, d.value])
      expect(echoes).toEqual([
        ['title', 'old'],
        ['done', { __deleted: true }],
      ])
    })

    it('checks delta_batch field ops the same way', () => {
      const h = harness(rules)
      h.send('a', 'delta_batch', {
        documentId: 'todo:1',
        deltas: [
          { field: 'title', value: 'x'.repeat(21) },
          { field: 'done', value: true },
        ],
      })
      expect(h.ofType('a', 'error')[0]?.details).toMatchObject({ code: 'VALIDATION_FAILED', field: 'title' })
      expect(h.engine.documentState('todo:1')).toEqual({})
    })

    it('validates a delete as undefined: optional fields may be deleted, required ones not', () => {
      const h = harness(rules)
      h.send('a', 'delta', { documentId: 'todo:1', delta: { title: 't', note: 'n' } })
      h.take('a')
      h.send('a', 'delta', { documentId: 'todo:1', delta: { note: { __deleted: true } } })
      expect(h.ofType('a', 'error')).toEqual([])
      h.send('a', 'delta', { documentId: 'todo:1', delta: { title: { __deleted: true } } })
      expect(h.ofType('a', 'error')[0]?.details).toMatchObject({ code: 'VALIDATION_FAILED', field: 'title' })
      expect(h.engine.documentState('todo:1')).toEqual({ title: 't' })
    })
  })
}

describe('validate: rules', () => {
  it('refuses unknown fields by default, allows them with unknownFields: allow, and always allows deleting them', () => {
    const strict = harness({ 'todo:*': { fields: { title: z.string() } } })
    strict.send('a', 'delta', { documentId: 'todo:1', delta: { extra: 1 } })
    expect(strict.ofType('a', 'error')[0]?.details).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'extra',
      issues: [{ message: 'Unknown field: extra' }],
    })
    strict.take('a')
    strict.send('a', 'delta', { documentId: 'todo:1', delta: { extra: { __deleted: true } } })
    expect(strict.ofType('a', 'error')).toEqual([])
    const open = harness({ 'todo:*': { fields: { title: z.string() }, unknownFields: 'allow' } })
    open.send('a', 'delta', { documentId: 'todo:1', delta: { extra: 1 } })
    expect(open.engine.documentState('todo:1')).toEqual({ extra: 1 })
  })

  it('matches field patterns: an exact name beats a prefix, the longest prefix wins', () => {
    const h = harness({
      'todo:*': { fields: { 'item:*': z.string(), 'item:count': z.number(), 'item:flag:*': z.boolean() } },
    })
    h.send('a', 'delta', {
      documentId: 'todo:1',
      delta: { 'item:1': 'a', 'item:count': 2, 'item:flag:x': true },
    })
    expect(h.ofType('a', 'error')).toEqual([])
    h.send('a', 'delta', { documentId: 'todo:1', delta: { 'item:flag:y': 'no' } })
    expect(h.ofType('a', 'error')[0]?.details).toMatchObject({ field: 'item:flag:y' })
  })

  it('applies only to matching documents, and every matching rule must accept', () => {
    const h = harness({
      'todo:*': { fields: { n: z.number() } },
      '*': (write) => (write.field.startsWith('_') ? 'reserved field' : true),
    })
    h.send('a', 'delta', { documentId: 'other', delta: { n: 'text' } })
    expect(h.ofType('a', 'error')).toEqual([])
    h.send('a', 'delta', { documentId: 'other', delta: { _x: 1 } })
    expect(h.ofType('a', 'error')[0]?.details).toMatchObject({ issues: [{ message: 'reserved field' }] })
  })

  it('gives a function the write and who writes (principal and context)', () => {
    const seen: unknown[] = []
    const h = new EngineHarness({
      validate: {
        '*': (write, ctx) => {
          seen.push([write, ctx.connectionId, ctx.principal?.userId, ctx.context])
          return write.value === 'forbidden' ? 'no' : true
        },
      },
    })
    h.open('a', {
      principal: { userId: 'u', permissions: { canRead: ['*'], canWrite: ['*'], isAdmin: false } },
      context: { plan: 'free' },
    })
    h.send('a', 'delta', { documentId: 'd', delta: { f: 'forbidden' } })
    expect(seen).toEqual([
      [{ documentId: 'd', field: 'f', value: 'forbidden', deleted: false }, 'a', 'u', { plan: 'free' }],
    ])
    expect(h.engine.documentState('d')).toEqual({})
  })

  it('fails closed when a validator throws, and reports it', () => {
    const h = harness({
      'todo:*': () => {
        throw new Error('bug in validator')
      },
    })
    h.send('a', 'delta', { documentId: 'todo:1', delta: { x: 1 } })
    expect(h.engine.documentState('todo:1')).toEqual({})
    expect(h.ofType('a', 'error')[0]?.details).toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [{ message: 'Invalid value' }],
    })
    expect(faults(h)).toMatchObject([
      { documentId: 'todo:1', field: 'x', message: 'validator threw: bug in validator' },
    ])
  })

  it('refuses an async schema at startup with a clear error', () => {
    const zodAsync = z.string().refine(async () => true)
    expect(() => new EngineHarness({ validate: { '*': { fields: { title: zodAsync } } } })).toThrow(
      /validate\["\*"\]\.fields\["title"\]: the schema validates asynchronously/,
    )
    const valibotAsync = v.pipeAsync(
      v.string(),
      v.checkAsync(async () => true),
    )
    expect(() => new EngineHarness({ validate: { 'x:*': { fields: { name: valibotAsync } } } })).toThrow(
      /validate\["x:\*"\]\.fields\["name"\]: the schema validates asynchronously/,
    )
    expect(() => new EngineHarness({ validate: { '*': { fields: { title: {} as never } } } })).toThrow(
      /expected a Standard Schema/,
    )
  })

  it('refuses writes checked by an async schema the probe could not see, and reports it once', () => {
    // Synchronous on every startup probe, a Promise on a non-empty string.
    const sneaky = {
      '~standard': {
        version: 1 as const,
        vendor: 'test',
        validate: (value: unknown) =>
          typeof value === 'string' && value !== ''
            ? Promise.resolve({ value })
            : { issues: [{ message: 'expected a non-empty string' }] },
      },
    }
    const h = harness({ 'todo:*': { fields: { title: sneaky } } })
    h.send('a', 'delta', { documentId: 'todo:1', delta: { title: 'a' } })
    h.send('a', 'delta', { documentId: 'todo:1', delta: { title: 'b' } })
    expect(h.engine.documentState('todo:1')).toEqual({})
    expect(h.ofType('a', 'error')).toHaveLength(2)
    expect(faults(h)).toHaveLength(1)
  })
})
