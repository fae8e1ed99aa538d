/**
 * Page helpers for the browser tests. Their callbacks run in the page (DOM types, checked by
 * src/web/tsconfig.json); launching Chromium lives in chromium.ts, which scripts/bench-web.ts shares.
 */
import { afterAll, beforeAll } from 'bun:test'
import type { Browser, Page } from 'puppeteer-core'
import { browserPairingUrl } from '../../src/routes/web'
import type { TestApp } from '../fixtures/app'
import { BROWSER_TEST_MS, DESKTOP, launchBrowser, newPage, type PageWatch } from './chromium'

export * from './chromium'

/** The link main.ts prints, made from a pairing answer exactly as the server makes it. */
export function pairingLink(baseUrl: string, connection: unknown): string {
  return browserPairingUrl(baseUrl, connection)
}

/** Clicks the tab with this label and waits until its screen is the one shown. */
export async function openTab(page: Page, name: string): Promise<void> {
  await page.click(`#tab-${name}`)
  await page.waitForSelector(`#screen-${name}:not([hidden])`)
}

/** Waits until some element matching `selector` has `text` in its text. */
export async function waitForText(page: Page, selector: string, text: string, timeout = 20_000): Promise<void> {
  await page.waitForFunction(
    (sel: string, wanted: string) => [...document.querySelectorAll(sel)].some((element) => (element.textContent ?? '').includes(wanted)),
    { timeout, polling: 100 },
    selector,
    text,
  )
}


/**
 * Finds and clicks the button in one step inside the page: live events re-render the Chat, so a
 * button found by one call can be replaced before a second call clicks it ("Node is detached").
 */
export async function clickWhenReady(page: Page, selector: string): Promise<void> {
  await page.waitForFunction(
    (css: string) => {
      const button = document.querySelector<HTMLButtonElement>(css)
      if (!button || button.disabled) return false
      button.click()
      return true
    },
    { timeout: 30_000 },
    selector,
  )
}

/** The texts of every element matching `selector`, as the user sees them. */
export function textsOf(page: Page, selector: string): Promise<string[]> {
  return page.$$eval(selector, (found) => found.map((element) => element.textContent ?? ''))
}

/**
 * A page of its own (own storage) opened from the session's pairing link and live on /ws/events:
 * the set-up of a browser test that is not about pairing itself.
 */
export async function openPairedPage(browser: Browser, baseUrl: string, session: { sessionId: string; token: string }, viewport = DESKTOP) {
  const opened = await newPage(browser, baseUrl, viewport)
  await opened.page.goto(pairingLink(baseUrl, { sessionId: session.sessionId, token: session.token, expiresAt: new Date(Date.now() + 3600_000).toISOString() }))
  await waitForText(opened.page, '.conn', 'live')
  return opened
}

/** Waits until the terminal's screen shows `text` (xterm draws spaces as no-break spaces). */
export async function waitForTerminalText(page: Page, text: string, timeout = 60_000): Promise<void> {
  await page.waitForFunction(
    (wanted: string) => (document.querySelector('.xterm-rows')?.textContent ?? '').replace(/\u00a0/g, ' ').includes(wanted),
    { timeout, polling: 100 },
    text,
  )
}

/** What a browser test file works with, once its beforeAll has run. */
export type BrowserSuite = { app: TestApp; baseUrl: string; browser: Browser; page: Page; watch: PageWatch }

/**
 * The set-up every browser test file shares, as its beforeAll and afterAll: the app listening on
 * loopback, Chromium, and one page, opened from the session's pairing link and live (or left
 * blank with `paired: false`, for a file whose first test is the pairing). afterAll closes the
 * page, the browser and the app. The returned object's fields are set once beforeAll has run.
 */
export function browserSuite(makeApp: () => Promise<TestApp>, options: { viewport?: typeof DESKTOP; paired?: boolean } = {}): BrowserSuite {
  const suite = {} as BrowserSuite
  let closeBrowser: (() => Promise<void>) | undefined
  let closePage: (() => Promise<void>) | undefined
  let closeApp: (() => Promise<void>) | undefined
  beforeAll(async () => {
    const app = await makeApp()
    closeApp = () => app[Symbol.asyncDispose]()
    suite.app = app
    suite.baseUrl = app.listen().baseUrl
    const launched = await launchBrowser()
    closeBrowser = () => launched[Symbol.asyncDispose]()
    suite.browser = launched.browser
    const opened = options.paired === false ? await newPage(launched.browser, suite.baseUrl, options.viewport) : await openPairedPage(launched.browser, suite.baseUrl, app, options.viewport)
    closePage = opened.close
    suite.page = opened.page
    suite.watch = opened.watch
  }, BROWSER_TEST_MS)
  afterAll(async () => {
    await closePage?.()
    await closeBrowser?.()
    await closeApp?.()
  }, BROWSER_TEST_MS)
  return suite
}
