/**
 * The compiled binary as a user runs it in a terminal (a real TTY through util-linux `script`),
 * started in a repo: it prints `Open in a browser: …/#pair=…`, and that very link, opened in
 * Chromium that can reach nothing but loopback, loads the page from the binary and pairs.
 */
import { afterAll, beforeAll, describe, expect, it as bunIt } from 'bun:test'
import { compiledBinary, makeServerHome, type ServerHome } from '../fixtures/binary'
import { BROWSER_TEST_MS, launchBrowser, newPage, openTab, PHONE, waitForText } from './browser'

/** A browser test waits on a real shell and a real browser: more than the suite's default 30 s on a busy machine. */
const it = (name: string, fn: () => Promise<void> | void) => bunIt(name, fn, BROWSER_TEST_MS)

let home: ServerHome
let proc: { kill(signal?: NodeJS.Signals): void; exited: Promise<number> } | null = null
let printed = ''
let browser: Awaited<ReturnType<typeof launchBrowser>>

beforeAll(async () => {
  const binary = await compiledBinary()
  home = await makeServerHome({ 'README.md': '# binary\n' })
  // `script` gives the binary a terminal, so it makes the QR session and prints the browser link.
  const child = Bun.spawn(['script', '-qfec', `exec ${binary} --port 0`, '/dev/null'], {
    cwd: home.repo,
    env: home.env({ TERM: 'xterm', JWT_SECRET: 'web-binary-secret-0123456789abcdef0123456789' }),
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  proc = child
  const reader = child.stdout.getReader()
  const deadline = Date.now() + 20_000
  // Up to the end of the line: a read may stop in the middle of the link.
  while (!/Open in a browser: \S+\r?\n/.test(printed) && Date.now() < deadline) {
    const { value, done } = await reader.read()
    if (done) break
    printed += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  browser = await launchBrowser()
}, BROWSER_TEST_MS)

afterAll(async () => {
  await browser?.[Symbol.asyncDispose]()
  proc?.kill('SIGTERM')
  await Promise.race([proc?.exited, Bun.sleep(5000)])
  proc?.kill('SIGKILL')
  await home?.[Symbol.asyncDispose]()
}, BROWSER_TEST_MS)

describe('the web cockpit in the compiled binary', () => {
  it('prints a link whose #pair= fragment opens a paired page served from the binary alone', async () => {
    const link = /Open in a browser: (\S+)/.exec(printed)?.[1]
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#pair=[A-Za-z0-9_-]+$/)
    const base = link!.slice(0, link!.indexOf('/#pair='))
    const { page, watch, close } = await newPage(browser.browser, base, PHONE)
    try {
      await page.goto(link!)
      await page.waitForSelector('#screen-Tasks:not([hidden])')
      await waitForText(page, '.conn', 'live')
      await openTab(page, 'Terminal')
      await page.waitForSelector('#screen-Terminal [role=status][data-connects]')
      await page.click('.term')
      await page.keyboard.type('echo from-the-binary-$((40+2))\n')
      await waitForText(page, '.xterm-rows', 'from-the-binary-42', 60_000)
      expect(watch.foreignRequests).toEqual([])
      expect(watch.errors).toEqual([])
    } finally {
      await close()
    }
  })
})
