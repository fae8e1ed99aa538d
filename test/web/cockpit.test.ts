/**
 * The web cockpit in a real headless Chromium against the whole app on loopback: pairing,
 * a mock task with live status, the terminal, review and apply of one hunk of two (checked with
 * the git CLI), a reload that finds the same state, and a diff full of markup shown as text.
 */
import { afterAll, beforeAll, describe, expect, it as bunIt } from 'bun:test'
import type { Page } from 'puppeteer-core'
import { gitCli, makeTestApp, type TestApp } from '../fixtures/app'
import { BROWSER_TEST_MS, DESKTOP, launchBrowser, newPage, openTab, pairingLink, PHONE, waitForText, type PageWatch } from './browser'

/** A browser test waits on a real shell and a real browser: more than the suite's default 30 s on a busy machine. */
const it = (name: string, fn: () => Promise<void> | void) => bunIt(name, fn, BROWSER_TEST_MS)

const SHELL_START_MS = 60_000
const LINES = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`)
const EDITED = LINES.map((line, i) => (i === 1 ? 'line 2 changed by the agent' : i === 28 ? 'line 29 changed too' : line))

let app: TestApp
let baseUrl: string
let browser: Awaited<ReturnType<typeof launchBrowser>>
let page: Page
let watch: PageWatch
let closePage: () => Promise<void>

async function pairingAnswer(testApp: TestApp) {
  const response = await testApp.request('/api/session', {
    method: 'POST',
    headers: { authorization: 'Bearer test-pairing-token-0123456789' },
    json: { repo: testApp.repo, label: 'browser' },
  })
  expect(response.status).toBe(201)
  return (await response.json()) as { sessionId: string; token: string }
}

async function startMockTask(instruction: string, mock: unknown): Promise<string> {
  await openTab(page, 'Tasks')
  await page.select('#task-agent', 'mock')
  await page.$eval('details', (details) => ((details as HTMLDetailsElement).open = true))
  await page.$eval('#task-context', (element, value) => ((element as HTMLTextAreaElement).value = value), JSON.stringify({ mock }))
  await page.type('#task-instruction', instruction)
  await page.keyboard.press('Enter')
  await page.waitForSelector(`.task[data-status] .instruction`)
  await waitForText(page, '.task .instruction', instruction)
  return page.$$eval('.task', (rows, wanted) => rows.find((row) => row.querySelector('.instruction')?.textContent === wanted)?.getAttribute('data-task-id') ?? '', instruction)
}

async function waitForTaskStatus(taskId: string, status: string): Promise<void> {
  await page.waitForSelector(`.task[data-task-id="${taskId}"][data-status="${status}"]`, { timeout: 30_000 })
}

beforeAll(async () => {
  app = await makeTestApp({ repoFiles: { 'notes.txt': LINES.join('\n') + '\n', 'README.md': '# browser test\n' }, env: { CMD_ALLOWLIST: 'echo web-command *' } })
  baseUrl = app.listen().baseUrl
  browser = await launchBrowser()
  ;({ page, watch, close: closePage } = await newPage(browser.browser, baseUrl, DESKTOP))
}, BROWSER_TEST_MS)

afterAll(async () => {
  await closePage?.()
  await browser?.[Symbol.asyncDispose]()
  await app?.[Symbol.asyncDispose]()
}, BROWSER_TEST_MS)

describe('the web cockpit in Chromium', () => {
  it('pairs from the #pair= fragment, keeps the token in storage only and drops the fragment', async () => {
    const connection = await pairingAnswer(app)
    await page.goto(pairingLink(baseUrl, connection), { waitUntil: 'load' })
    await page.waitForSelector('#screen-Tasks:not([hidden])')
    await waitForText(page, '.conn', 'live')
    expect(page.url()).toBe(`${baseUrl}/`)
    const stored = await page.evaluate(() => localStorage.getItem('cockpit.session'))
    expect(JSON.parse(stored ?? '{}').token).toBe(connection.token)
    expect(await page.cookies()).toEqual([])
    for (const name of ['Tasks', 'Chat', 'Terminal', 'Review', 'Commands']) expect(await page.$eval(`#tab-${name}`, (tab) => tab.textContent)).toBe(name)
  })

  it('starts a mock task from the agent picker and shows its live status', async () => {
    const taskId = await startMockTask('write the greeting', { delayMs: 300, edits: [{ file: 'hello.txt', content: 'hello\n' }] })
    expect(taskId).not.toBe('')
    await waitForTaskStatus(taskId, 'completed')
    await page.waitForSelector(`.task[data-task-id="${taskId}"] .badge.completed`)
  })

  it('shows the conversation of a task in Chat', async () => {
    await openTab(page, 'Chat')
    await waitForText(page, '.chat-log .msg.user', 'write the greeting')
    await waitForText(page, '.chat-log .note', 'completed')
  })

  it('echoes a command typed into the terminal', async () => {
    await openTab(page, 'Terminal')
    await page.waitForSelector('.xterm-rows')
    await page.waitForSelector('#screen-Terminal [role=status][data-connects]')
    await page.click('.term')
    await page.keyboard.type('echo web-$((6*7))-done\n')
    // An interactive bash reading its rc files can take seconds to start on a busy machine.
    await waitForText(page, '.xterm-rows', 'web-42-done', SHELL_START_MS)
  })

  it('reconnects the terminal after the socket drops and shows the replayed screen', async () => {
    const connects = async () => Number(await page.$eval('#screen-Terminal [role=status]', (status) => (status as HTMLElement).dataset.connects))
    const before = await connects()
    // Every socket of the session is closed as a server restart of the sockets would: the shell lives on.
    app.services.sockets.closeAll()
    await page.waitForFunction(
      (count: number) => Number((document.querySelector('#screen-Terminal [role=status]') as HTMLElement).dataset.connects) > count,
      { timeout: 20_000 },
      before,
    )
    await waitForText(page, '.xterm-rows', 'web-42-done')
    await page.keyboard.type('echo again-$((2+3))\n')
    await waitForText(page, '.xterm-rows', 'again-5', SHELL_START_MS)
    await waitForText(page, '.conn', 'live')
  })

  it('resizes the shell when the layout changes', async () => {
    /** Runs `stty size` after a marker line and reads `rows cols` from the line after the marker. */
    const shellSize = async (marker: string) => {
      // A viewport change re-lays the page out and can move focus off the terminal: type into it.
      await page.focus('.xterm-helper-textarea')
      await page.keyboard.type(`echo ${marker}; stty size\n`)
      const size = await page.waitForFunction(
        (wanted: string) => {
          const lines = [...document.querySelectorAll('.xterm-rows > div')].map((row) => (row.textContent ?? '').replace(/\u00a0/g, ' ').trim())
          const match = /^(\d+) (\d+)$/.exec(lines[lines.lastIndexOf(wanted) + 1] ?? '')
          return match ? { rows: Number(match[1]), cols: Number(match[2]) } : null
        },
        { timeout: SHELL_START_MS, polling: 100 },
        marker,
      )
      return (await size.jsonValue()) as { rows: number; cols: number }
    }
    const wide = await shellSize('size-desktop')
    await page.setViewport(PHONE)
    // The page refits on the ResizeObserver's next callback; ask until the shell sees it (bounded).
    let narrow = await shellSize('size-phone-0')
    for (let i = 1; i < 20 && narrow.cols >= wide.cols; i++) narrow = await shellSize(`size-phone-${i}`)
    await page.setViewport(DESKTOP)
    expect(wide.cols).toBeGreaterThan(80)
    expect(narrow.cols).toBeLessThan(50)
    expect(narrow.rows).toBeGreaterThan(10)
  })

  it('applies exactly the ticked hunk of two and shows the short SHA of the new commit', async () => {
    const taskId = await startMockTask('edit two places', { edits: [{ file: 'notes.txt', content: EDITED.join('\n') + '\n' }] })
    await waitForTaskStatus(taskId, 'completed')
    await page.locator(`.task[data-task-id="${taskId}"] button:nth-of-type(2)`).click()
    await page.waitForSelector('#screen-Review:not([hidden])')
    await page.waitForSelector('input[data-file="notes.txt"][data-hunk="1"]')
    expect(await page.$$eval('input[data-file="notes.txt"]', (boxes) => boxes.length)).toBe(2)
    await page.locator('input[data-file="notes.txt"][data-hunk="0"]').click()
    await page.$eval('#commit-message', (input) => ((input as HTMLInputElement).value = ''))
    await page.type('#commit-message', 'web: first hunk only')
    await page.keyboard.press('Enter')
    await waitForText(page, '#screen-Review .result', 'Committed')

    const head = gitCli(app.repo, 'rev-parse', 'HEAD').trim()
    const shown = await page.$eval('#screen-Review .result', (result) => result.textContent ?? '')
    expect(shown).toContain(head.slice(0, 7))
    expect(gitCli(app.repo, 'log', '-1', '--format=%s').trim()).toBe('web: first hunk only')
    const committed = gitCli(app.repo, 'show', 'HEAD:notes.txt')
    expect(committed).toContain('line 2 changed by the agent')
    expect(committed).not.toContain('line 29 changed too')
    expect(committed).toContain('line 29\n')
    expect(gitCli(app.repo, 'show', '--format=', '--name-only', 'HEAD').trim()).toBe('notes.txt')
  })

  it('finds the same screen, task and commit again after a reload', async () => {
    const shortSha = gitCli(app.repo, 'rev-parse', '--short=7', 'HEAD').trim()
    await page.reload({ waitUntil: 'load' })
    await page.waitForSelector('#screen-Review:not([hidden])')
    await waitForText(page, '#screen-Review .result', `Applied as ${shortSha}`)
    await openTab(page, 'Tasks')
    await page.waitForSelector('.task[data-status="applied"]')
    await page.waitForSelector('.task[data-status="completed"]')
    await openTab(page, 'Chat')
    await waitForText(page, '.chat-log .msg.user', 'edit two places')
  })

  it('runs an allowlisted command and shows its output', async () => {
    await openTab(page, 'Commands')
    await waitForText(page, '.allowlist button', 'echo web-command *')
    await page.locator('.allowlist button').click()
    await page.type('#cmd-input', 'from the browser')
    await page.keyboard.press('Enter')
    await waitForText(page, '.run pre.output', 'web-command from the browser')
    await waitForText(page, '.run .badge', 'exit 0')
  })

  it('shows a diff full of <script> and <img onerror> as text and runs none of it', async () => {
    const hostile = '<script>window.__xss = "script"</script>\n<img src=x onerror="window.__xss = \'img\'">\n'
    const taskId = await startMockTask('hostile diff', { edits: [{ file: '<img src=x onerror=alert(1)>.html', content: hostile }] })
    await waitForTaskStatus(taskId, 'completed')
    await page.locator(`.task[data-task-id="${taskId}"] button:nth-of-type(2)`).click()
    await page.waitForSelector('#screen-Review:not([hidden])')
    await waitForText(page, 'pre.diff', '<script>window.__xss = "script"</script>')
    await waitForText(page, '.file .path', '<img src=x onerror=alert(1)>.html')
    expect(await page.$$eval('#screen-Review img, #screen-Review script', (found) => found.length)).toBe(0)
    expect(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss)).toBeUndefined()
  })

  it('is usable at phone size without sideways scrolling', async () => {
    await page.setViewport(PHONE)
    for (const name of ['Tasks', 'Chat', 'Terminal', 'Review', 'Commands']) {
      await openTab(page, name)
      const width = await page.evaluate(() => document.documentElement.scrollWidth)
      expect({ name, width }).toEqual({ name, width: PHONE.width })
    }
    await page.setViewport(DESKTOP)
  })

  it('follows the system dark and light mode', async () => {
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor)
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }])
    const dark = await background()
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }])
    const light = await background()
    const brightness = (rgb: string) => (rgb.match(/\d+/g) ?? []).slice(0, 3).reduce((sum, n) => sum + Number(n), 0)
    expect(brightness(dark)).toBeLessThan(150)
    expect(brightness(light)).toBeGreaterThan(600)
  })

  it('moves between screens with the keyboard and closes the session dialog with Escape', async () => {
    await openTab(page, 'Tasks')
    await page.focus('#tab-Tasks')
    await page.keyboard.press('ArrowRight')
    await page.waitForSelector('#screen-Chat:not([hidden])')
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('tab-Chat')
    await page.click('header button')
    await page.waitForSelector('dialog[open]')
    await page.keyboard.press('Escape')
    await page.waitForFunction(() => !document.querySelector('dialog[open]'))
  })

  it('made no request off the server and raised no script or CSP error', () => {
    expect(watch.foreignRequests).toEqual([])
    expect(watch.errors).toEqual([])
  })

  it('forgets the session: the server ends it and the page asks to pair again', async () => {
    const connection = JSON.parse((await page.evaluate(() => localStorage.getItem('cockpit.session'))) ?? '{}') as { sessionId: string; token: string }
    await page.click('header button')
    await page.waitForSelector('dialog[open]')
    await page.click('dialog button.danger')
    await page.waitForSelector('#pair-token')
    expect(await page.evaluate(() => localStorage.getItem('cockpit.session'))).toBeNull()
    const after = await app.request(`/api/session/${connection.sessionId}`, { headers: { authorization: `Bearer ${connection.token}` } })
    expect(after.status).toBe(401)
  })

  it('pairs with the form: pairing token and repository path', async () => {
    await page.type('#pair-token', 'test-pairing-token-0123456789')
    await page.type('#pair-repo', app.repo)
    await page.keyboard.press('Enter')
    await page.waitForSelector('#screen-Tasks:not([hidden])')
    await waitForText(page, '.conn', 'live')
    expect(await page.evaluate(() => location.href)).toBe(`${baseUrl}/`)
  })

  it('says so when the pairing link is cut short, and keeps no session', async () => {
    const { page: fresh, close } = await newPage(browser.browser, baseUrl, PHONE)
    try {
      const link = pairingLink(baseUrl, await pairingAnswer(app))
      await fresh.goto(link.slice(0, link.length - 20))
      await waitForText(fresh, '.pair .error', 'pairing link is incomplete')
      expect(fresh.url()).toBe(`${baseUrl}/`)
      expect(await fresh.evaluate(() => localStorage.getItem('cockpit.session'))).toBeNull()
    } finally {
      await close()
    }
  })

  it('says why when the pairing token is wrong', async () => {
    const { page: fresh, close } = await newPage(browser.browser, baseUrl, PHONE)
    try {
      await fresh.goto(baseUrl)
      await fresh.type('#pair-token', 'not-the-token')
      await fresh.type('#pair-repo', app.repo)
      await fresh.keyboard.press('Enter')
      await fresh.waitForFunction(() => (document.querySelector('.pair .error')?.textContent ?? '').length > 0)
      expect(await fresh.evaluate(() => localStorage.getItem('cockpit.session'))).toBeNull()
    } finally {
      await close()
    }
  })
})
