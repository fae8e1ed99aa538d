/**
 * A real headless Chromium (Debian's package) driven by puppeteer-core, with a fresh profile and
 * no way out but loopback: every host name but 127.0.0.1 fails to resolve, so a page that needed
 * a CDN or any other server would break here.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import puppeteer, { type Browser, type Page } from 'puppeteer-core'

/** Per test and per hook: a real shell may take seconds to start on a loaded 2-core machine. */
export const BROWSER_TEST_MS = 120_000

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export const PHONE = { width: 390, height: 844, deviceScaleFactor: 1, isMobile: true, hasTouch: true }
export const DESKTOP = { width: 1280, height: 800, deviceScaleFactor: 1 }

/** Screenshots go to a temp dir (never committed); COCKPIT_SCREENSHOTS names another. */
export const SCREENSHOT_DIR = process.env.COCKPIT_SCREENSHOTS ?? join(tmpdir(), 'cockpit-web-screenshots')

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
]

export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), 'cockpit-chromium-'))
  const browser: Browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    pipe: true,
    userDataDir: profile,
    args: CHROMIUM_FLAGS,
  })
  return {
    browser,
    async [Symbol.asyncDispose]() {
      await browser.close().catch(() => {})
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

/** What a page did that a test must see as a failure: script errors, CSP violations, requests elsewhere. */
export type PageWatch = { errors: string[]; foreignRequests: string[] }

/** A new page (its own browser context: own storage) watching for errors and requests off the server. */
export async function newPage(browser: Browser, baseUrl: string, viewport = DESKTOP): Promise<{ page: Page; watch: PageWatch; close(): Promise<void> }> {
  const context = await browser.createBrowserContext()
  const page = await context.newPage()
  await page.setViewport(viewport)
  const watch: PageWatch = { errors: [], foreignRequests: [] }
  const origin = new URL(baseUrl).origin
  const wsOrigin = origin.replace(/^http/, 'ws')
  page.on('pageerror', (error) => watch.errors.push(`pageerror: ${String(error)}`))
  page.on('console', (message) => {
    if (message.type() === 'error') watch.errors.push(`console: ${message.text()}`)
  })
  page.on('request', (request) => {
    const url = request.url()
    if (!url.startsWith(origin + '/') && !url.startsWith(wsOrigin + '/') && !url.startsWith('data:')) watch.foreignRequests.push(url)
  })
  return { page, watch, close: () => context.close() }
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true })
  const path = join(SCREENSHOT_DIR, `${name}.png`)
  await page.screenshot({ path: path as `${string}.png` })
  return path
}
