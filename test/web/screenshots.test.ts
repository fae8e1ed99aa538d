/**
 * Screenshots of every screen at phone (390x844) and desktop (1280x800) size, with a task, a diff,
 * a terminal and a command on them, written to SCREENSHOT_DIR (a temp dir, never committed).
 * Also checks each screen fits the phone's width with a long line in the diff.
 */
import { afterAll, beforeAll, describe, expect, it as bunIt } from 'bun:test'
import { readFileSync } from 'node:fs'
import { makeTestApp, type TestApp } from '../fixtures/app'
import { BROWSER_TEST_MS, DESKTOP, launchBrowser, newPage, openTab, pairingLink, PHONE, screenshot, waitForText } from './browser'

/** A browser test waits on a real shell and a real browser: more than the suite's default 30 s on a busy machine. */
const it = (name: string, fn: () => Promise<void> | void) => bunIt(name, fn, BROWSER_TEST_MS)

const SCREENS = ['Tasks', 'Chat', 'Terminal', 'Review', 'Commands'] as const
const LINES = Array.from({ length: 20 }, (_, i) => `const value${i + 1} = ${i + 1}`)
const EDITED = LINES.map((line, i) =>
  i === 2 ? `const value3 = computeSomethingWithAVeryLongName(${'argument, '.repeat(12)}last) // a line far wider than a phone` : i === 16 ? 'const value17 = 1700' : line,
)

let app: TestApp
let baseUrl: string
let browser: Awaited<ReturnType<typeof launchBrowser>>

beforeAll(async () => {
  app = await makeTestApp({ repoFiles: { 'src/values.ts': LINES.join('\n') + '\n' }, env: { CMD_ALLOWLIST: 'echo tests passed *,git status' } })
  baseUrl = app.listen().baseUrl
  browser = await launchBrowser()
}, BROWSER_TEST_MS)

afterAll(async () => {
  await browser?.[Symbol.asyncDispose]()
  await app?.[Symbol.asyncDispose]()
}, BROWSER_TEST_MS)

describe('screenshots of every screen', () => {
  it('captures Tasks, Chat, Terminal, Review and Commands at phone and desktop size', async () => {
    const paired = await app.request('/api/session', {
      method: 'POST',
      headers: { authorization: 'Bearer test-pairing-token-0123456789' },
      json: { repo: app.repo, label: 'screenshots' },
    })
    const connection = await paired.json()
    const started = await app.request('/api/tasks', {
      method: 'POST',
      headers: { authorization: `Bearer ${(connection as { token: string }).token}` },
      json: {
        instruction: 'Rename the values and explain the change',
        agent: 'mock',
        context: { mock: { output: 'Reading src/values.ts\nEditing two lines\n', edits: [{ file: 'src/values.ts', content: EDITED.join('\n') + '\n' }] } },
      },
    })
    expect(started.status).toBe(202)
    const task = (await started.json()) as { taskId: string }

    const { page, watch, close } = await newPage(browser.browser, baseUrl, PHONE)
    try {
      await page.goto(pairingLink(baseUrl, connection))
      await page.waitForSelector(`.task[data-task-id="${task.taskId}"][data-status="completed"]`, { timeout: 30_000 })
      await openTab(page, 'Terminal')
      await page.waitForSelector('#screen-Terminal [role=status][data-connects]')
      await page.click('.term')
      await page.keyboard.type('git log --oneline\n')
      await waitForText(page, '.xterm-rows', 'initial', 60_000)
      await openTab(page, 'Commands')
      await waitForText(page, '.allowlist button', 'echo tests passed *')
      await page.type('#cmd-input', 'echo tests passed 12 of 12')
      await page.keyboard.press('Enter')
      await waitForText(page, '.run .badge', 'exit 0')
      await openTab(page, 'Review')
      await page.waitForSelector('input[data-hunk="1"]')
      await page.locator('input[data-hunk="0"]').click()

      const written: string[] = []
      for (const [size, viewport] of [['phone', PHONE], ['desktop', DESKTOP]] as const) {
        await page.setViewport(viewport)
        for (const name of SCREENS) {
          await openTab(page, name)
          await Bun.sleep(150) // the terminal refits to the new size
          const width = await page.evaluate(() => document.documentElement.scrollWidth)
          expect({ name, size, width }).toEqual({ name, size, width: viewport.width })
          written.push(await screenshot(page, `${size}-${name.toLowerCase()}`))
        }
      }
      expect(written).toHaveLength(10)
      for (const path of written) expect([...readFileSync(path).subarray(1, 4)]).toEqual([0x50, 0x4e, 0x47])
      expect(watch.errors).toEqual([])
      expect(watch.foreignRequests).toEqual([])
    } finally {
      await close()
    }
  })
})
