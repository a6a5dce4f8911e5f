import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { DocumentChangeEvent } from '../../src/server/events.js'
import { Coalescer } from '../../src/webhooks/coalescer.js'
import { resolveWebhookEndpoints, WebhookConfigError, webhooksFromEnv } from '../../src/webhooks/config.js'
import { changeFromEvent, type WebhookBody } from '../../src/webhooks/payload.js'
import { parseRetryAfter, retryDelay } from '../../src/webhooks/retry.js'

const SECRET = `whsec_${Buffer.alloc(24, 1).toString('base64')}`

describe('webhook configuration', () => {
  it('reads SYNCKIT_WEBHOOK_URL / SECRET / EVENTS', () => {
    expect(webhooksFromEnv({})).toEqual([])
    expect(
      webhooksFromEnv({ SYNCKIT_WEBHOOK_URL: 'https://hooks.example/x', SYNCKIT_WEBHOOK_SECRET: SECRET }),
    ).toEqual([{ url: 'https://hooks.example/x', secret: SECRET }])
    expect(
      webhooksFromEnv({
        SYNCKIT_WEBHOOK_URL: 'https://hooks.example/x',
        SYNCKIT_WEBHOOK_SECRET: SECRET,
        SYNCKIT_WEBHOOK_EVENTS: 'document.changed, presence.changed',
      }),
    ).toEqual([
      { url: 'https://hooks.example/x', secret: SECRET, events: ['document.changed', 'presence.changed'] },
    ])
  })

  it.each([
    [{ SYNCKIT_WEBHOOK_URL: 'https://h.example' }, /without SYNCKIT_WEBHOOK_SECRET/],
    [{ SYNCKIT_WEBHOOK_SECRET: SECRET }, /without SYNCKIT_WEBHOOK_URL/],
    [
      { SYNCKIT_WEBHOOK_URL: 'ftp://h.example', SYNCKIT_WEBHOOK_SECRET: SECRET },
      /SYNCKIT_WEBHOOK_URL must be an http/,
    ],
    [
      { SYNCKIT_WEBHOOK_URL: 'https://h.example', SYNCKIT_WEBHOOK_SECRET: 'hunter2-hunter2' },
      /SYNCKIT_WEBHOOK_SECRET must/,
    ],
    [
      {
        SYNCKIT_WEBHOOK_URL: 'https://h.example',
        SYNCKIT_WEBHOOK_SECRET: SECRET,
        SYNCKIT_WEBHOOK_EVENTS: 'doc.changed',
      },
      /SYNCKIT_WEBHOOK_EVENTS: unknown event "doc.changed"/,
    ],
  ])('refuses %o with a clear error', (env, message) => {
    expect(() => webhooksFromEnv(env)).toThrow(WebhookConfigError)
    expect(() => webhooksFromEnv(env)).toThrow(message)
  })

  it('checks secrets: whsec_ prefix, base64, 24 to 64 bytes, never echoed in the error', () => {
    const endpoint = (secret: string) => [{ url: 'http://127.0.0.1:1/', secret }]
    expect(resolveWebhookEndpoints(endpoint(SECRET))[0]?.events).toEqual(
      new Set(['document.changed', 'document.deleted']),
    )
    const short = `whsec_${Buffer.alloc(16, 1).toString('base64')}`
    const long = `whsec_${Buffer.alloc(65, 1).toString('base64')}`
    expect(() => resolveWebhookEndpoints(endpoint(short))).toThrow(/24 to 64 random bytes \(has 16\)/)
    expect(() => resolveWebhookEndpoints(endpoint(long))).toThrow(/has 65/)
    expect(() => resolveWebhookEndpoints(endpoint('whsec_not base64!'))).toThrow(/base64/)
    try {
      resolveWebhookEndpoints(endpoint(`${SECRET}!`))
    } catch (error) {
      expect(String(error)).not.toContain(SECRET)
    }
    expect(() => resolveWebhookEndpoints([{ url: 'http://x.example', secret: SECRET, events: [] }])).toThrow(
      /webhooks\[0\]\.events must be a non-empty list/,
    )
    expect(() => resolveWebhookEndpoints('nope')).toThrow(WebhookConfigError)
  })
})

describe('retry delay', () => {
  const policy = { baseMs: 100, maxMs: 5000 }

  it('grows exponentially with equal jitter, never past the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (n, r) => {
          const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** (n - 1))
          const delay = retryDelay(n, policy, () => r)
          expect(delay).toBeGreaterThanOrEqual(Math.floor(exponential / 2))
          expect(delay).toBeLessThanOrEqual(exponential)
        },
      ),
    )
  })

  it('honours Retry-After up to the cap', () => {
    expect(retryDelay(1, policy, () => 0, 3000)).toBe(3000)
    expect(retryDelay(1, policy, () => 0, 3_600_000)).toBe(policy.maxMs)
    expect(parseRetryAfter('7', 0)).toBe(7000)
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000)
    expect(parseRetryAfter('soon', 0)).toBeUndefined()
    expect(parseRetryAfter(null, 0)).toBeUndefined()
  })
})

describe('event to body', () => {
  const event = (origin: 'local' | 'remote'): DocumentChangeEvent => ({
    documentId: 'd',
    origin,
    actor: origin === 'local' ? { kind: 'server' } : { kind: 'remote' },
    fields: [
      { field: 'a', value: 1, deleted: false },
      { field: 'b', value: null, deleted: true },
    ],
    registers: [
      {
        field: 'a',
        value: 1,
        deleted: false,
        stamp: { ms: 1, counter: 0, node: 'n' },
        dot: { node: 'n', seq: 1 },
      },
      {
        field: 'b',
        value: null,
        deleted: true,
        stamp: { ms: 1, counter: 1, node: 'n' },
        dot: { node: 'n', seq: 2 },
      },
    ],
  })

  it('maps local changes only (each change is sent by the node that accepted it)', () => {
    expect(changeFromEvent(event('remote'))).toBeUndefined()
    expect(changeFromEvent(event('local'))).toEqual({
      documentId: 'd',
      actor: 'server',
      fields: [
        { field: 'a', value: 1, deleted: false },
        { field: 'b', value: null, deleted: true },
      ],
    })
    // A connection's write names its user.
    const byUser: DocumentChangeEvent = {
      ...event('local'),
      actor: { kind: 'connection', connectionId: 'conn-1', userId: 'u7' },
    }
    expect(changeFromEvent(byUser)?.actor).toBe('u7')
  })

  it('keeps odd field names (__proto__) as plain keys of the body', () => {
    const bodies: WebhookBody[] = []
    let now = 0
    const coalescer = new Coalescer({
      intervalMs: 10,
      maxWindows: 10,
      maxBytes: 1e6,
      now: () => now,
      emit: (b) => bodies.push(b),
    })
    coalescer.change({ documentId: 'd', fields: [{ field: '__proto__', value: { x: 1 }, deleted: false }] })
    now = 5
    coalescer.flushAll()
    expect(JSON.parse(JSON.stringify(bodies[0]))).toEqual({
      type: 'document.changed',
      timestamp: new Date(0).toISOString(),
      data: JSON.parse('{"documentId":"d","set":{"__proto__":{"x":1}},"delete":[]}'),
    })
  })

  it('bounds open windows: past maxWindows or maxBytes the oldest goes out early', () => {
    const bodies: WebhookBody[] = []
    const coalescer = new Coalescer({
      intervalMs: 60_000,
      maxWindows: 3,
      maxBytes: 2000,
      now: () => 0,
      emit: (b) => bodies.push(b),
    })
    for (let i = 0; i < 5; i++)
      coalescer.change({ documentId: `d${i}`, fields: [{ field: 'f', value: i, deleted: false }] })
    expect(coalescer.size).toBe(3)
    expect(bodies.map((b) => b.data.documentId)).toEqual(['d0', 'd1'])
    coalescer.change({
      documentId: 'd4',
      fields: [{ field: 'big', value: 'x'.repeat(3000), deleted: false }],
    })
    expect(coalescer.bytes).toBeLessThanOrEqual(2000)
    coalescer.flushAll()
  })
})
