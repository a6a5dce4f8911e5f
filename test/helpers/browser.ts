import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Browser, chromium, type Page } from 'playwright-core'

/** Debian's Chromium, driven by playwright-core (never a downloaded browser build). */
export const CHROMIUM = '/usr/bin/chromium'
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Screenshots of browser tests: a git-ignored folder, kept after the run as artifacts. */
export const ARTIFACTS = fileURLToPath(new URL('../../test-results/browser/', import.meta.url))

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install it with \`apt-get install -y chromium\` (.ci/run does)`)
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 60_000 })
}

/**
 * Everything a page reports as wrong: console errors (CSP violations among them), uncaught
 * exceptions, and HTTP errors of the page's own requests.
 */
export function collectErrors(page: Page, name: string, into: string[]): void {
  page.on('console', (message) => {
    if (message.type() === 'error') into.push(`${name} console: ${message.text()}`)
  })
  page.on('pageerror', (error) => into.push(`${name} exception: ${error.message}`))
  page.on('response', (response) => {
    if (response.status() >= 400) into.push(`${name} HTTP ${response.status()}: ${response.url()}`)
  })
}

export async function screenshot(page: Page, file: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true })
  const path = join(ARTIFACTS, file)
  await page.screenshot({ path })
  return path
}
