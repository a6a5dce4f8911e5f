import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  AuthConfigError,
  AuthError,
  createApiKeyVerifier,
  parseApiKeysEnv,
  safeEqual,
} from '../../src/auth/index.js'
import type { Principal } from '../../src/engine/types.js'

const KEY_A = 'sk_live_aaaaaaaaaaaaaaaa'
const KEY_B = 'sk_live_bbbbbbbbbbbbbbbb'
const READER = { canRead: ['*'], canWrite: [], isAdmin: false }
const WRITER = { canRead: [], canWrite: ['room:*'], isAdmin: false }

async function refusal(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (error: unknown) => (error instanceof AuthError ? error.code : 'not an AuthError'),
  )
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('API key list', () => {
  const verify = createApiKeyVerifier([
    { key: KEY_A, userId: 'reporting', permissions: READER },
    { key: KEY_B, userId: 'ingest', permissions: WRITER },
  ])

  it('maps an exact key to its own principal and permissions', async () => {
    expect(await verify(KEY_A)).toEqual({ userId: 'reporting', permissions: READER, via: 'apiKey' })
    expect(await verify(KEY_B)).toEqual({ userId: 'ingest', permissions: WRITER, via: 'apiKey' })
  })

  it('refuses wrong, prefixed, extended, case-changed and empty keys', async () => {
    for (const candidate of [
      'sk_live_cccccccccccccccc',
      KEY_A.slice(0, -1),
      `${KEY_A}a`,
      KEY_A.toUpperCase(),
      '',
    ]) {
      expect(await refusal(verify(candidate))).toBe('API_KEY_INVALID')
    }
    expect(await refusal(verify('x'.repeat(5_000)))).toBe('API_KEY_INVALID')
  })

  it('hashes the presented key even when its length differs (no length short-cut)', async () => {
    const digest = vi.spyOn(crypto.subtle, 'digest')
    expect(await refusal(verify('short-wrong-key'))).toBe('API_KEY_INVALID')
    const hashed = digest.mock.calls.map(([, data]) => new TextDecoder().decode(data as Uint8Array))
    expect(hashed).toContain('short-wrong-key')
  })

  it('returns copies: mutating a principal does not change the configured grant', async () => {
    const principal = await verify(KEY_A)
    principal.permissions.canWrite.push('*')
    expect((await verify(KEY_A)).permissions).toEqual(READER)
  })

  it('validates the list at construction', () => {
    expect(() => createApiKeyVerifier([{ key: 'short', userId: 'u', permissions: READER }])).toThrow(
      /at least 12/,
    )
    expect(() =>
      createApiKeyVerifier([
        { key: KEY_A, userId: 'a', permissions: READER },
        { key: KEY_A, userId: 'b', permissions: READER },
      ]),
    ).toThrow(/duplicate/)
    expect(() => createApiKeyVerifier([{ key: KEY_A, userId: '', permissions: READER }])).toThrow(/userId/)
    const bad = { canRead: '*' } as unknown as typeof READER
    expect(() => createApiKeyVerifier([{ key: KEY_A, userId: 'u', permissions: bad }])).toThrow(/canRead/)
  })
})

describe('safeEqual', () => {
  it('compares by content regardless of length', async () => {
    expect(await safeEqual('abc', 'abc')).toBe(true)
    expect(await safeEqual('abc', 'abd')).toBe(false)
    expect(await safeEqual('abc', 'abcd')).toBe(false)
    expect(await safeEqual('', '')).toBe(true)
  })
})

describe('API key callback', () => {
  it('resolves the principal the app returns', async () => {
    const lookup = vi.fn(
      async (key: string): Promise<Principal | null> =>
        key === KEY_A ? { userId: 'svc', permissions: WRITER } : null,
    )
    const verify = createApiKeyVerifier(lookup)
    expect(await verify(KEY_A)).toEqual({ userId: 'svc', permissions: WRITER, via: 'apiKey' })
    expect(await refusal(verify(KEY_B))).toBe('API_KEY_INVALID')
    expect(lookup).toHaveBeenCalledTimes(2)
  })

  it('turns a throwing or malformed lookup into CALLBACK_FAILED', async () => {
    const throwing = createApiKeyVerifier(async () => {
      throw new Error('db down')
    })
    expect(await refusal(throwing(KEY_A))).toBe('CALLBACK_FAILED')
    const malformed = createApiKeyVerifier(
      async () => ({ userId: 'x', permissions: null }) as unknown as Principal,
    )
    expect(await refusal(malformed(KEY_A))).toBe('CALLBACK_FAILED')
    const anonymous = createApiKeyVerifier(async () => ({ userId: '', permissions: READER }))
    expect(await refusal(anonymous(KEY_A))).toBe('CALLBACK_FAILED')
  })
})

describe('parseApiKeysEnv', () => {
  it('parses bare keys as read/write everything, never admin', () => {
    expect(parseApiKeysEnv('sk_dev_test123, sk_dev_local456')).toEqual([
      {
        key: 'sk_dev_test123',
        userId: 'api-key:1',
        permissions: { canRead: ['*'], canWrite: ['*'], isAdmin: false },
      },
      {
        key: 'sk_dev_local456',
        userId: 'api-key:2',
        permissions: { canRead: ['*'], canWrite: ['*'], isAdmin: false },
      },
    ])
  })

  it('parses names, scopes and explicit admin', () => {
    const entries = parseApiKeysEnv(
      'reporting:sk_ro_0123456789=*/ , rooms:sk_rooms_01234567=room:*+lobby/room:*, ops:sk_ops_0123456789=admin,,',
    )
    expect(entries).toEqual([
      {
        key: 'sk_ro_0123456789',
        userId: 'api-key:reporting',
        permissions: { canRead: ['*'], canWrite: [], isAdmin: false },
      },
      {
        key: 'sk_rooms_01234567',
        userId: 'api-key:rooms',
        permissions: { canRead: ['room:*', 'lobby'], canWrite: ['room:*'], isAdmin: false },
      },
      {
        key: 'sk_ops_0123456789',
        userId: 'api-key:ops',
        permissions: { canRead: [], canWrite: [], isAdmin: true },
      },
    ])
  })

  it('returns nothing for an empty value', () => {
    expect(parseApiKeysEnv('')).toEqual([])
    expect(parseApiKeysEnv(' , ')).toEqual([])
  })

  it('names the setting and the entry, never the key', () => {
    const cases = [
      'sk_short',
      'sk_valid_key_0001, sk_valid_key_0001',
      'a:sk_valid_key_0001, a:sk_valid_key_0002',
      'sk_valid_key_0001=everything',
      'sk_valid_key_0001=bad pattern/',
      'sk valid key 0001',
      'bad name:sk_valid_key_0001',
    ]
    for (const value of cases) {
      let error: unknown
      try {
        parseApiKeysEnv(value)
      } catch (e) {
        error = e
      }
      expect(error, value).toBeInstanceOf(AuthConfigError)
      expect((error as AuthConfigError).setting).toBe('SYNCKIT_AUTH_APIKEYS')
      expect((error as Error).message).not.toContain('sk_valid_key_000')
    }
  })

  it('feeds createApiKeyVerifier', async () => {
    const verify = createApiKeyVerifier(parseApiKeysEnv('ci:sk_ci_0123456789=docs:*/'))
    expect(await verify('sk_ci_0123456789')).toEqual({
      userId: 'api-key:ci',
      permissions: { canRead: ['docs:*'], canWrite: [], isAdmin: false },
      via: 'apiKey',
    })
  })
})
