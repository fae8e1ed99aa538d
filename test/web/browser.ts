/**
 * Page helpers for the browser tests. Their callbacks run in the page (DOM types, checked by
 * src/web/tsconfig.json); launching Chromium lives in chromium.ts, which scripts/bench-web.ts shares.
 */
import type { Page } from 'puppeteer-core'
import { browserPairingUrl } from '../../src/routes/web'

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

