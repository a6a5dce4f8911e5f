import { createHmac } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { probeUpgrade } from '../helpers/upgrade-probe.js'
import { bundleWorker, type RunningWorker, runWorker } from '../runtimes/workerd.js'
import { type ClientKind, ConformanceClient } from './client.js'
import { metricValue } from './suite.js'
import { sleep } from './wait.js'

/**
 * The upgrade check in a Durable Object, in real workerd (miniflare): cookie sessions through
 * `auth.authenticate`, the origin allow-list and the per-IP cap answer with an HTTP status and no
 * WebSocket; the principal and context an admission carries survive hibernation. The fixture is
 * test/runtimes/cloudflare-door.ts (docs/adapters.md shows it).
 */

const FIXTURE = 'test/runtimes/cloudflare-door.ts'
const SECRET = 'session-secret-of-the-workerd-door-test'
const ORIGIN = 'https://app.example.com'
const SDK_JSON: ClientKind = { dialect: 'sdk', encoding: 'json' }
const AUTH_FAILED = { error: { code: 'AUTH_FAILED', message: 'Authentication failed' } }

/** The cookie header of a session the app signed (`<userId>:<team>.<HMAC-SHA256>`). */
function session(userId: string, team: string, secret = SECRET): string {
  const payload = `${userId}:${team}`
  return `session=${payload}.${createHmac('sha256', secret).update(payload).digest('base64url')}`
}

let worker: RunningWorker | undefined
const clients: ConformanceClient[] = []

beforeAll(async () => {
  worker = await runWorker(await bundleWorker(FIXTURE), {
    durableObjects: {
      SYNC: { className: 'SyncObject', useSQLite: true },
      DATED: { className: 'DatedObject', useSQLite: true },
    },
    bindings: { SESSION_SECRET: SECRET },
  })
}, 60_000)
afterAll(async () => {
  for (const client of clients) client.terminate()
  await worker?.dispose()
})

function running(): RunningWorker {
  if (!worker) throw new Error('workerd did not start')
  return worker
}

async function open(path: string, name: string, headers: Record<string, string>): Promise<ConformanceClient> {
  const client = await ConformanceClient.open(
    `${running().wsOrigin}${path}`,
    name,
    SDK_JSON,
    undefined,
    headers,
  )
  clients.push(client)
  return client
}

/** A counter of the room's object (a labelled counter has no series before its first count). */
async function metric(room: string, name: string): Promise<number> {
  const response = await fetch(`${running().httpUrl}/metrics?room=${room}`)
  expect(response.status).toBe(200)
  return metricValue(await response.text(), name) ?? 0
}

describe('the upgrade check in a Durable Object', () => {
  afterEach(() => {
    for (const client of clients.splice(0)) client.terminate()
  })

  it("admits a valid session cookie, authenticated at once, with its team's documents", async () => {
    const alice = await open('/ws?room=team-1', 'alice', {
      cookie: session('alice', 'team-1'),
      origin: ORIGIN,
    })
    await alice.join('team-1:todo')
    await alice.writeAcked('team-1:todo', { title: 'from alice' })
    // The context (the team of the session) reaches the policy: another team's user is admitted
    // to this room, but may open none of its documents.
    const bob = await open('/direct?room=team-1', 'bob', { cookie: session('bob', 'team-2'), origin: ORIGIN })
    const from = bob.mark()
    bob.send('subscribe', { documentId: 'team-1:todo' })
    await bob.waitError('for a document of another team', 'Permission denied', { from })
  })

  for (const path of ['/ws', '/direct']) {
    it(`${path}: refuses a missing or forged cookie with HTTP 401 and a JSON body, no WebSocket`, async () => {
      const url = `${running().wsOrigin}${path}?room=team-2`
      const answers = [
        await probeUpgrade(url, { origin: ORIGIN }),
        await probeUpgrade(url, { origin: ORIGIN, cookie: session('alice', 'team-2', 'another secret') }),
        await probeUpgrade(url, { origin: ORIGIN, cookie: 'session=alice:team-2.not-base64!' }),
      ]
      for (const answer of answers) {
        expect(answer.status).toBe(401)
        expect(answer.headers['content-type']).toBe('application/json; charset=utf-8')
        expect(JSON.parse(answer.body)).toEqual(AUTH_FAILED)
      }
      expect((await probeUpgrade(url, { origin: ORIGIN, cookie: session('alice', 'team-2') })).status).toBe(
        101,
      )
    })
  }

  it("the Worker's early check refuses before any object sees the request; the object agrees", async () => {
    const room = 'team-3'
    const headers: Record<string, string>[] = [{}, { cookie: session('eve', room, 'a guess') }]
    for (const extra of headers) {
      const answer = await probeUpgrade(`${running().wsOrigin}/ws?room=${room}`, { origin: ORIGIN, ...extra })
      expect([answer.status, JSON.parse(answer.body)]).toEqual([401, AUTH_FAILED])
    }
    expect(await metric(room, 'synckit_connections_rejected_total')).toBe(0)
    for (const extra of headers) {
      const answer = await probeUpgrade(`${running().wsOrigin}/direct?room=${room}`, {
        origin: ORIGIN,
        ...extra,
      })
      expect([answer.status, JSON.parse(answer.body)]).toEqual([401, AUTH_FAILED])
    }
    expect(await metric(room, 'synckit_connections_rejected_total')).toBe(2)
    expect(await metric(room, 'synckit_connections_total')).toBe(0)
  })

  it('refuses a connection over the per-IP cap (CF-Connecting-IP) with HTTP 429', async () => {
    const headers = { cookie: session('carol', 'team-4'), origin: ORIGIN }
    await open('/ws?room=team-4', 'first', headers)
    await open('/ws?room=team-4', 'second', headers)
    const third = await probeUpgrade(`${running().wsOrigin}/ws?room=team-4`, headers)
    expect(third.status).toBe(429)
    expect(third.headers['retry-after']).toBe('5')
    expect(JSON.parse(third.body).error.code).toBe('TOO_MANY_CONNECTIONS')
    expect(await metric('team-4', 'synckit_connections_total')).toBe(2)
  })

  it('refuses another site with HTTP 403, even with a valid cookie', async () => {
    const cookie = session('dave', 'team-5')
    const answer = await probeUpgrade(`${running().wsOrigin}/ws?room=team-5`, {
      cookie,
      origin: 'https://evil.example.net',
    })
    expect(answer.status).toBe(403)
    expect(JSON.parse(answer.body).error.code).toBe('ORIGIN_NOT_ALLOWED')
    expect(
      (await probeUpgrade(`${running().wsOrigin}/ws?room=team-5`, { cookie, origin: ORIGIN })).status,
    ).toBe(101)
  })
})

describe('hibernation keeps what the upgrade check admitted', () => {
  let alice: ConformanceClient
  let carol: ConformanceClient
  let dated: ConformanceClient

  // One eviction for the cases below: workerd evicts an idle object 10 s after its last event.
  beforeAll(async () => {
    const headers = (userId: string) => ({ cookie: session(userId, 'team-6'), origin: ORIGIN })
    alice = await open('/ws?room=team-6', 'alice', headers('alice'))
    carol = await open('/ws?room=team-6', 'carol', headers('carol'))
    dated = await open('/dated?room=team-6', 'dated', headers('dan'))
    for (const client of [alice, carol]) await client.join('team-6:board')
    await alice.writeAcked('team-6:board', { before: 1 })
    await carol.waitEcho('team-6:board', 'before', 1)
    await dated.join('team-6:board')
    await dated.writeAcked('team-6:board', { dated: true })
    await sleep(13_000)
  }, 60_000)

  it('the principal and the context come back: a resumed connection still reads and writes its team', async () => {
    const health = (await (await fetch(`${running().httpUrl}/health?room=team-6`)).json()) as {
      uptime: number
      connections: unknown
    }
    expect(health.uptime).toBeLessThanOrEqual(2) // a new instance, woken by this request
    expect(health.connections).toMatchObject({ totalConnections: 2 })
    const from = carol.mark()
    await alice.writeAcked('team-6:board', { after: 2 })
    await carol.waitEcho('team-6:board', 'after', 2, { from })
    const denied = alice.mark()
    alice.send('subscribe', { documentId: 'team-7:board' })
    await alice.waitError('for a document of another team', 'Permission denied', { from: denied })
    expect([alice.closeEvent, carol.closeEvent]).toEqual([undefined, undefined])
  })

  it('a context that is not JSON data is not kept: the socket is closed with 1012 to reconnect', async () => {
    // Any request wakes the object (this one its HTTP routes answer with 404).
    expect((await fetch(`${running().httpUrl}/dated?room=team-6`)).status).toBe(404)
    expect(await dated.closed()).toEqual({ code: 1012, reason: 'Server restarted; reconnect' })
  })
})
