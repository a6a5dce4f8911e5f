import { copyFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
import { WebSocket } from 'ws'
import { serveWithInspector } from '../../examples/inspector.js'
import { createSyncClient } from '../../src/client/index.js'
import type { SyncClient } from '../../src/client/types.js'
import type { SyncServer } from '../../src/server/index.js'
import { collectErrors, launchChromium, screenshot } from '../helpers/browser.js'

/**
 * The inspector (inspector/, served at `/inspector` with `http.inspector`) in real Chromium,
 * against the server of examples/inspector.ts, which requires API keys. `UPDATE_DOCS_SCREENSHOT=1` also copies the picture to
 * docs/images/inspector.png.
 */

const WAIT = { timeout: 15_000 }
/** Long enough for the one-second charts to draw a shape. */
const LOAD_MS = process.env.UPDATE_DOCS_SCREENSHOT ? 26_000 : 6000
const DOCS_IMAGE = fileURLToPath(new URL('../../docs/images/inspector.png', import.meta.url))
const ADMIN_KEY = 'inspector-admin-key-0123'
const USER_KEY = 'inspector-alice-key-0123'

let server: SyncServer
let closeTransport: () => Promise<void>
let baseUrl: string
let wsUrl: string
let browser: Browser
const clients: SyncClient[] = []

beforeAll(async () => {
  const served = await serveWithInspector({ admin: ADMIN_KEY, user: USER_KEY }, 0)
  server = served.sync
  closeTransport = () => served.transport.close()
  baseUrl = `http://127.0.0.1:${served.transport.port}`
  wsUrl = `ws://127.0.0.1:${served.transport.port}/ws`
  browser = await launchChromium()
}, 90_000)

afterAll(async () => {
  for (const client of clients) client.close()
  await browser?.close()
  await server?.close()
  await closeTransport?.()
})

async function connectedClient(apiKey: string): Promise<SyncClient> {
  const client = createSyncClient({ url: wsUrl, WebSocket, apiKey })
  clients.push(client)
  await client.connect()
  return client
}

/** A page whose tab already holds `key` as its token (as after signing in). */
async function openInspector(key: string, errors: string[], path = '/inspector'): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } })
  await context.addInitScript((value) => sessionStorage.setItem('synckit-inspector-token', value), key)
  const page = await context.newPage()
  collectErrors(page, 'inspector', errors)
  const response = await page.goto(`${baseUrl}${path}`, WAIT)
  expect(response?.headers()['content-security-policy']).toContain("script-src 'self'")
  return page
}

const latestRates = async (page: Page): Promise<number[]> =>
  ((await page.getAttribute('#chart-messages', 'data-latest')) ?? '').split(',').map(Number)

describe('the inspector in Chromium', () => {
  it('shows a document’s fields and stamps after a write, and its live charts move under load', async () => {
    const errors: string[] = []
    onTestFailed(() => console.error('Browser errors so far:', errors))
    const alice = await connectedClient(USER_KEY)
    await alice.subscribe('board:launch')
    await alice.setMany('board:launch', { title: 'Launch plan', owner: 'alice', done: false })
    await alice.set('board:launch', 'draft', 'scratch')
    await alice.delete('board:launch', 'draft')
    alice.awareness('board:launch').set({ name: 'Alice', cursor: { x: 120, y: 48 } })
    await alice.set('board:retro', 'title', 'Retro')
    await alice.set('notes:alice', 'text', 'hello')

    const page = await openInspector(ADMIN_KEY, errors)
    await page.locator('#status[data-state="live"]').waitFor(WAIT)
    await page.fill('#search', 'board:')
    await page.waitForFunction(
      () =>
        Array.from(document.querySelectorAll('#document-list [data-document]'))
          .map((item) => item.getAttribute('data-document'))
          .join() === 'board:launch,board:retro',
      undefined,
      WAIT,
    )
    await page.click('[data-document="board:launch"]')
    const title = page.locator('tr[data-field="title"]')
    await title.waitFor(WAIT)
    expect(await title.locator('.field-value').textContent()).toBe('"Launch plan"')
    expect(await title.locator('.field-node').textContent()).toBe('node-inspected')
    expect(await title.locator('.field-time').textContent()).toMatch(/^\d\d:\d\d:\d\d\.\d{3}$/)
    const draft = page.locator('tr[data-field="draft"]')
    expect(await draft.getAttribute('class')).toBe('tombstone')
    expect(await draft.locator('.badge.tomb').textContent()).toBe('tombstone')
    const subscriber = page.locator('.subscribers tbody tr')
    expect(await subscriber.locator('td').allTextContents()).toEqual(
      expect.arrayContaining(['alice', 'binary', 'sdk']),
    )
    await page.locator('.part', { hasText: 'Presence (1)' }).waitFor(WAIT)

    // Load from a test client: bursts of writes that rise and fall, bounded in count and time.
    const before = await page.getAttribute('#chart-messages polyline[data-series="in"]', 'points')
    const writer = await connectedClient(USER_KEY)
    const until = Date.now() + LOAD_MS
    for (let round = 0, sent = 0; Date.now() < until && sent < 20_000; round++) {
      const burst = Math.round(10 + 40 * Math.abs(Math.sin(round / 8)))
      await Promise.all(Array.from({ length: burst }, (_, i) => writer.set('load:test', `f${i}`, sent + i)))
      sent += burst
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    await page.waitForFunction(
      () => {
        const [messagesIn] = (document.querySelector('#chart-messages')?.getAttribute('data-latest') ?? '')
          .split(',')
          .map(Number)
        return (messagesIn ?? 0) > 0
      },
      undefined,
      WAIT,
    )
    const after = await page.getAttribute('#chart-messages polyline[data-series="in"]', 'points')
    expect(after).not.toBe(before)
    const peak = Math.max(
      ...(after ?? '')
        .split(' ')
        .map((point) => Number(point.split(',')[1]))
        .map((y) => 63 - y),
    )
    expect(peak).toBeGreaterThan(10) // the line rose well above the baseline
    expect((await latestRates(page))[0]).toBeGreaterThan(0)
    await page.locator('.detail-id', { hasText: 'board:launch' }).waitFor(WAIT)
    await page.waitForTimeout(300)
    const path = await screenshot(page, 'inspector-document.png')
    if (process.env.UPDATE_DOCS_SCREENSHOT) await copyFile(path, DOCS_IMAGE)

    // An action from the page: disconnecting alice's connection removes it from the subscribers.
    const connectionId = await subscriber.getAttribute('data-connection')
    await subscriber.locator('button', { hasText: 'Disconnect' }).click()
    await page.locator('#toast', { hasText: `Disconnected ${connectionId}` }).waitFor(WAIT)
    await page
      .locator(`.subscribers tr[data-connection="${connectionId}"]`)
      .waitFor({ state: 'detached', ...WAIT })

    expect(errors).toEqual([])
    await page.context().close()
  }, 90_000)

  it('refuses a non-admin token: 403 from every data endpoint and nothing shown', async () => {
    const errors: string[] = []
    const page = await openInspector(USER_KEY, errors, '/inspector?doc=board:launch')
    await page.locator('#sign-in[data-refused="403"]').waitFor(WAIT)
    expect(await page.locator('#app').isHidden()).toBe(true)
    expect(await page.locator('[data-field], [data-document]').count()).toBe(0)
    expect(await page.textContent('body')).not.toContain('Launch plan')
    await screenshot(page, 'inspector-refused.png')
    // The only errors are the refused requests themselves.
    expect(errors.length).toBeGreaterThan(0)
    for (const error of errors) expect(error).toMatch(/403/)

    for (const path of ['stats', 'documents', 'document?id=board:launch']) {
      const response = await fetch(`${baseUrl}/inspector/api/${path}`, {
        headers: { Authorization: `Bearer ${USER_KEY}` },
      })
      expect(response.status).toBe(403)
      expect(await response.text()).not.toContain('Launch plan')
    }
    await page.context().close()
  }, 30_000)
})
