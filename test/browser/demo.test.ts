import { copyFile, mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest'
import { attachWebSocketServer } from '../../adapters/ws.js'
import { createSyncServer, type SyncServer } from '../../src/server/index.js'
import { loadDemoFiles } from '../../src/web/demo-files.js'
import { collectErrors, launchChromium, screenshot } from '../helpers/browser.js'
import { waitFor } from '../helpers/wait-for.js'

/**
 * The demo (demo/, served at `/` through `http.staticFiles`) in two real Chromium windows against
 * a server started here. Each step leaves a screenshot of both windows in test-results/browser.
 * `UPDATE_DOCS_SCREENSHOT=1` also copies the two-window picture to docs/images/demo.png.
 */

const WAIT = { timeout: 20_000 }
const DOCS_IMAGE = fileURLToPath(new URL('../../docs/images/demo.png', import.meta.url))

interface TaskRow {
  text: string
  done: boolean
}

let server: SyncServer
let closeTransport: () => Promise<void>
let baseUrl: string
let browser: Browser
const errors: string[] = []

beforeAll(async () => {
  server = createSyncServer({ auth: { required: false }, http: { staticFiles: await loadDemoFiles() } })
  const transport = await attachWebSocketServer(server, { port: 0, host: '127.0.0.1' })
  closeTransport = () => transport.close()
  baseUrl = `http://127.0.0.1:${transport.port}`
  browser = await launchChromium()
}, 90_000)

afterAll(async () => {
  await browser?.close()
  await server?.close()
  await closeTransport?.()
})

async function openWindow(name: string, url: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } })
  const page = await context.newPage()
  collectErrors(page, name, errors)
  const response = await page.goto(url, WAIT)
  expect(response?.headers()['content-security-policy']).toContain("script-src 'self'")
  await page.locator('#connection[data-state="online"]').waitFor(WAIT)
  return page
}

const tasksOf = (page: Page): Promise<TaskRow[]> =>
  page.$$eval('#items li[data-task]', (rows) =>
    rows.map((row) => ({
      text: (row.querySelector('.task-text') as HTMLInputElement).value,
      done: (row.querySelector('input[type=checkbox]') as HTMLInputElement).checked,
    })),
  )

/** Waits until the page shows exactly these tasks, in this order. */
async function showsTasks(page: Page, expected: TaskRow[]): Promise<void> {
  await page.waitForFunction(
    (want) => {
      const rows = Array.from(document.querySelectorAll('#items li[data-task]')).map((row) => ({
        text: (row.querySelector('.task-text') as HTMLInputElement).value,
        done: (row.querySelector('input[type=checkbox]') as HTMLInputElement).checked,
      }))
      return JSON.stringify(rows) === want
    },
    JSON.stringify(expected),
    WAIT,
  )
}

const peopleIn = (page: Page): Promise<string[]> =>
  page.$$eval('#people li[data-client] .chip', (chips) => chips.map((chip) => chip.textContent ?? ''))

async function addTask(page: Page, text: string): Promise<void> {
  await page.fill('#add-text', text)
  await page.press('#add-text', 'Enter')
}

async function snap(step: string, a: Page, b: Page): Promise<void> {
  await Promise.all([screenshot(a, `${step}-a.png`), screenshot(b, `${step}-b.png`)])
}

describe('the demo in two Chromium windows', () => {
  it('syncs edits, shows presence, queues offline edits and merges them, and converges on a conflict', async () => {
    onTestFailed(() => console.error('Browser errors so far:', errors))
    const room = `browser-test-${Date.now().toString(36)}`
    const a = await openWindow('A', `${baseUrl}/?room=${room}`)
    const b = await openWindow('B', `${baseUrl}/?room=${room}`)
    await snap('01-open', a, b)

    // Presence: each window lists both people, with distinct names, and sees the other's pointer.
    let nameA = ''
    let nameB = ''
    await waitFor(
      async () => {
        // A clash of random names is settled by one window picking another: read them once settled.
        nameA = await a.inputValue('#my-name')
        nameB = await b.inputValue('#my-name')
        const seen = await Promise.all([peopleIn(a), peopleIn(b)])
        const want = [nameA, nameB].sort().join()
        return nameA !== nameB && seen.every((names) => names.sort().join() === want)
      },
      { timeoutMs: WAIT.timeout, message: 'both people listed in both windows' },
    )
    await b.mouse.move(420, 330)
    await a.locator('.cursor .cursor-name', { hasText: nameB }).waitFor(WAIT)
    await snap('02-presence', a, b)

    // An edit in one window appears in the other, both ways.
    await addTask(a, 'Buy milk')
    await addTask(a, 'Write the docs')
    await showsTasks(b, [
      { text: 'Buy milk', done: false },
      { text: 'Write the docs', done: false },
    ])
    await b.locator('#items li[data-task] input[type=checkbox]').nth(1).check()
    await showsTasks(a, [
      { text: 'Buy milk', done: false },
      { text: 'Write the docs', done: true },
    ])
    await b.locator('#items li[data-task] .task-text').first().focus()
    await a.locator('#items li[data-task] .editors .chip', { hasText: nameB }).waitFor(WAIT)
    await snap('03-edit', a, b)

    // Offline: A's edits are queued and shown; B edits meanwhile.
    await a.click('#connection')
    await a.locator('#connection[data-state="offline"]').waitFor(WAIT)
    await addTask(a, 'Offline task')
    await a.locator('#items li[data-task] input[type=checkbox]').first().check()
    await a.locator('#queued-count', { hasText: '2 edits' }).waitFor(WAIT)
    expect(await a.locator('#items li[data-task] .badge.queued:not([hidden])').count()).toBe(2)
    await b.locator('#items li[data-task] .task-text').first().fill('Buy oat milk')
    await b.press('#items li[data-task] .task-text >> nth=0', 'Enter')
    await showsTasks(a, [
      { text: 'Buy milk', done: true },
      { text: 'Write the docs', done: true },
      { text: 'Offline task', done: false },
    ])
    expect(await tasksOf(b)).toEqual([
      { text: 'Buy oat milk', done: false },
      { text: 'Write the docs', done: true },
    ])
    await snap('04-offline', a, b)

    // Back online: the queued edits and B's meanwhile merge field by field, in both windows.
    await a.click('#connection')
    await a.locator('#connection[data-state="online"]').waitFor(WAIT)
    const merged = [
      { text: 'Buy oat milk', done: true },
      { text: 'Write the docs', done: true },
      { text: 'Offline task', done: false },
    ]
    await Promise.all([showsTasks(a, merged), showsTasks(b, merged)])
    await a.locator('#offline-banner').waitFor({ state: 'hidden', ...WAIT })
    await a.waitForFunction(() => document.querySelectorAll('.badge:not([hidden])').length === 0, WAIT)
    await snap('05-merged', a, b)

    // Conflict: both windows write the title at once; both end with the same winner.
    await a.click('#conflict')
    for (const page of [a, b]) {
      await page.waitForFunction(
        () =>
          document.querySelectorAll('#conflict-result .attempts li').length === 2 &&
          document.querySelectorAll('#conflict-result .attempts li.won').length === 1,
        undefined,
        WAIT,
      )
    }
    const titleA = await a.inputValue('#title')
    const titleB = await b.inputValue('#title')
    expect(titleA).toBe(titleB)
    expect([`${nameA}'s board`, `${nameB}'s board`]).toContain(titleA)
    const winnerA = await a.locator('#conflict-result li.won strong').textContent()
    expect(await b.locator('#conflict-result li.won strong').textContent()).toBe(winnerA)
    expect(titleA).toBe(`${winnerA}'s board`)
    // B's pointer over the right half of the board, for the picture: A draws it there.
    await b.mouse.move(560, 420)
    await a.waitForFunction(() => {
      const cursor = document.querySelector<HTMLElement>('.cursor')
      return Number(/translate\((\d+)px/.exec(cursor?.style.transform ?? '')?.[1]) > 400
    }, WAIT)
    await a.waitForTimeout(200) // the cursor glides there (CSS transition)
    await snap('06-conflict', a, b)
    await twoWindowPicture(a, b)

    expect(errors).toEqual([])
  }, 120_000)
})

/** Both windows side by side, as the README shows them. */
async function twoWindowPicture(a: Page, b: Page): Promise<void> {
  const [shotA, shotB] = await Promise.all([a.screenshot(), b.screenshot()])
  const page = await browser.newPage({ viewport: { width: 1240, height: 470 } })
  const img = (png: Buffer) => `<img src="data:image/png;base64,${png.toString('base64')}">`
  await page.setContent(
    `<style>body{margin:0;padding:18px;display:flex;gap:16px;background:#d9dee7}` +
      `img{width:594px;border-radius:10px;box-shadow:0 6px 24px rgb(0 0 0 / 18%)}</style>` +
      img(shotA) +
      img(shotB),
  )
  await page.waitForFunction(() => Array.from(document.images).every((image) => image.complete))
  const path = await screenshot(page, 'demo-two-windows.png')
  await page.close()
  if (process.env.UPDATE_DOCS_SCREENSHOT) {
    await mkdir(fileURLToPath(new URL('.', `file://${DOCS_IMAGE}`)), { recursive: true })
    await copyFile(path, DOCS_IMAGE)
  }
}
