/**
 * Page helpers for the browser tests. Their callbacks run in the page (DOM types, checked by
 * src/web/tsconfig.json); launching Chromium lives in chromium.ts, which scripts/bench-web.ts shares.
 */
import type { Browser, Page } from 'puppeteer-core'
import { browserPairingUrl } from '../../src/routes/web'
import { DESKTOP, newPage } from './chromium'

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
