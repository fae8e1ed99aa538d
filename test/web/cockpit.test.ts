/**
 * The web cockpit in a real headless Chromium against the whole app on loopback: pairing,
 * a mock task with live status, the terminal, review and apply of one hunk of two (checked with
 * the git CLI), a reload that finds the same state, and a diff full of markup shown as text.
 */
import { describe, expect, it as bunIt } from 'bun:test'
import { gitCli, makeTestApp, type TestApp } from '../fixtures/app'
import { BROWSER_TEST_MS, browserSuite, DESKTOP, newPage, openTab, pairingLink, PHONE, waitForText } from './browser'

/** A browser test waits on a real shell and a real browser: more than the suite's default 30 s on a busy machine. */
const it = (name: string, fn: () => Promise<void> | void) => bunIt(name, fn, BROWSER_TEST_MS)

const SHELL_START_MS = 60_000
const LINES = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`)
const EDITED = LINES.map((line, i) => (i === 1 ? 'line 2 changed by the agent' : i === 28 ? 'line 29 changed too' : line))

// Not paired: pairing from the link is the first test.
const t = browserSuite(
  () => makeTestApp({ repoFiles: { 'notes.txt': LINES.join('\n') + '\n', 'README.md': '# browser test\n' }, env: { CMD_ALLOWLIST: 'echo web-command *' } }),
  { viewport: DESKTOP, paired: false },
)

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
  await openTab(t.page, 'Tasks')
  await t.page.select('#task-agent', 'mock')
  await t.page.$eval('details', (details) => ((details as HTMLDetailsElement).open = true))
  await t.page.$eval('#task-context', (element, value) => ((element as HTMLTextAreaElement).value = value), JSON.stringify({ mock }))
  await t.page.type('#task-instruction', instruction)
  await t.page.keyboard.press('Enter')
  await t.page.waitForSelector(`.task[data-status] .instruction`)
  await waitForText(t.page, '.task .instruction', instruction)
  return t.page.$$eval('.task', (rows, wanted) => rows.find((row) => row.querySelector('.instruction')?.textContent === wanted)?.getAttribute('data-task-id') ?? '', instruction)
}

async function waitForTaskStatus(taskId: string, status: string): Promise<void> {
  await t.page.waitForSelector(`.task[data-task-id="${taskId}"][data-status="${status}"]`, { timeout: 30_000 })
}

describe('the web cockpit in Chromium', () => {
  it('pairs from the #pair= fragment, keeps the token in storage only and drops the fragment', async () => {
    const connection = await pairingAnswer(t.app)
    await t.page.goto(pairingLink(t.baseUrl, connection), { waitUntil: 'load' })
    await t.page.waitForSelector('#screen-Tasks:not([hidden])')
    await waitForText(t.page, '.conn', 'live')
    expect(t.page.url()).toBe(`${t.baseUrl}/`)
    const stored = await t.page.evaluate(() => localStorage.getItem('cockpit.session'))
    expect(JSON.parse(stored ?? '{}').token).toBe(connection.token)
    expect(await t.page.cookies()).toEqual([])
    for (const name of ['Tasks', 'Chat', 'Terminal', 'Review', 'Commands']) expect(await t.page.$eval(`#tab-${name}`, (tab) => tab.textContent)).toBe(name)
  })

  it('starts a mock task from the agent picker and shows its live status', async () => {
    const taskId = await startMockTask('write the greeting', { delayMs: 300, edits: [{ file: 'hello.txt', content: 'hello\n' }] })
    expect(taskId).not.toBe('')
    await waitForTaskStatus(taskId, 'completed')
    await t.page.waitForSelector(`.task[data-task-id="${taskId}"] .badge.completed`)
  })

  it('shows the conversation of a task in Chat', async () => {
    await openTab(t.page, 'Chat')
    await waitForText(t.page, '.chat-log .msg.user', 'write the greeting')
    await waitForText(t.page, '.chat-log .note', 'completed')
  })

  it('echoes a command typed into the terminal', async () => {
    await openTab(t.page, 'Terminal')
    await t.page.waitForSelector('.xterm-rows')
    await t.page.waitForSelector('#screen-Terminal [role=status][data-connects]')
    await t.page.click('.term')
    await t.page.keyboard.type('echo web-$((6*7))-done\n')
    // An interactive bash reading its rc files can take seconds to start on a busy machine.
    await waitForText(t.page, '.xterm-rows', 'web-42-done', SHELL_START_MS)
  })

  it('reconnects the terminal after the socket drops and shows the replayed screen', async () => {
    const connects = async () => Number(await t.page.$eval('#screen-Terminal [role=status]', (status) => (status as HTMLElement).dataset.connects))
    const before = await connects()
    // Every socket of the session is closed as a server restart of the sockets would: the shell lives on.
    t.app.services.sockets.closeAll()
    await t.page.waitForFunction(
      (count: number) => Number((document.querySelector('#screen-Terminal [role=status]') as HTMLElement).dataset.connects) > count,
      { timeout: 20_000 },
      before,
    )
    await waitForText(t.page, '.xterm-rows', 'web-42-done')
    await t.page.keyboard.type('echo again-$((2+3))\n')
    await waitForText(t.page, '.xterm-rows', 'again-5', SHELL_START_MS)
    await waitForText(t.page, '.conn', 'live')
  })

  it('resizes the shell when the layout changes', async () => {
    /** Runs `stty size` after a marker line and reads `rows cols` from the line after the marker. */
    const shellSize = async (marker: string) => {
      // A viewport change re-lays the page out and can move focus off the terminal: type into it.
      await t.page.focus('.xterm-helper-textarea')
      await t.page.keyboard.type(`echo ${marker}; stty size\n`)
      const size = await t.page.waitForFunction(
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
    await t.page.setViewport(PHONE)
    // The page refits on the ResizeObserver's next callback; ask until the shell sees it (bounded).
    let narrow = await shellSize('size-phone-0')
    for (let i = 1; i < 20 && narrow.cols >= wide.cols; i++) narrow = await shellSize(`size-phone-${i}`)
    await t.page.setViewport(DESKTOP)
    expect(wide.cols).toBeGreaterThan(80)
    expect(narrow.cols).toBeLessThan(50)
    expect(narrow.rows).toBeGreaterThan(10)
  })

  it('applies exactly the ticked hunk of two and shows the short SHA of the new commit', async () => {
    const taskId = await startMockTask('edit two places', { edits: [{ file: 'notes.txt', content: EDITED.join('\n') + '\n' }] })
    await waitForTaskStatus(taskId, 'completed')
    await t.page.locator(`.task[data-task-id="${taskId}"] button:nth-of-type(2)`).click()
    await t.page.waitForSelector('#screen-Review:not([hidden])')
    await t.page.waitForSelector('input[data-file="notes.txt"][data-hunk="1"]')
    expect(await t.page.$$eval('input[data-file="notes.txt"]', (boxes) => boxes.length)).toBe(2)
    await t.page.locator('input[data-file="notes.txt"][data-hunk="0"]').click()
    await t.page.$eval('#commit-message', (input) => ((input as HTMLInputElement).value = ''))
    await t.page.type('#commit-message', 'web: first hunk only')
    await t.page.keyboard.press('Enter')
    await waitForText(t.page, '#screen-Review .result', 'Committed')

    const head = gitCli(t.app.repo, 'rev-parse', 'HEAD').trim()
    const shown = await t.page.$eval('#screen-Review .result', (result) => result.textContent ?? '')
    expect(shown).toContain(head.slice(0, 7))
    expect(gitCli(t.app.repo, 'log', '-1', '--format=%s').trim()).toBe('web: first hunk only')
    const committed = gitCli(t.app.repo, 'show', 'HEAD:notes.txt')
    expect(committed).toContain('line 2 changed by the agent')
    expect(committed).not.toContain('line 29 changed too')
    expect(committed).toContain('line 29\n')
    expect(gitCli(t.app.repo, 'show', '--format=', '--name-only', 'HEAD').trim()).toBe('notes.txt')
  })

  it('finds the same screen, task and commit again after a reload', async () => {
    const shortSha = gitCli(t.app.repo, 'rev-parse', '--short=7', 'HEAD').trim()
    await t.page.reload({ waitUntil: 'load' })
    await t.page.waitForSelector('#screen-Review:not([hidden])')
    await waitForText(t.page, '#screen-Review .result', `Applied as ${shortSha}`)
    await openTab(t.page, 'Tasks')
    await t.page.waitForSelector('.task[data-status="applied"]')
    await t.page.waitForSelector('.task[data-status="completed"]')
    await openTab(t.page, 'Chat')
    await waitForText(t.page, '.chat-log .msg.user', 'edit two places')
  })

  it('runs an allowlisted command and shows its output', async () => {
    await openTab(t.page, 'Commands')
    await waitForText(t.page, '.allowlist button', 'echo web-command *')
    await t.page.locator('.allowlist button').click()
    await t.page.type('#cmd-input', 'from the browser')
    await t.page.keyboard.press('Enter')
    await waitForText(t.page, '.run pre.output', 'web-command from the browser')
    await waitForText(t.page, '.run .badge', 'exit 0')
  })

  it('shows a diff full of <script> and <img onerror> as text and runs none of it', async () => {
    const hostile = '<script>window.__xss = "script"</script>\n<img src=x onerror="window.__xss = \'img\'">\n'
    const taskId = await startMockTask('hostile diff', { edits: [{ file: '<img src=x onerror=alert(1)>.html', content: hostile }] })
    await waitForTaskStatus(taskId, 'completed')
    await t.page.locator(`.task[data-task-id="${taskId}"] button:nth-of-type(2)`).click()
    await t.page.waitForSelector('#screen-Review:not([hidden])')
    await waitForText(t.page, 'pre.diff', '<script>window.__xss = "script"</script>')
    await waitForText(t.page, '.file .path', '<img src=x onerror=alert(1)>.html')
    expect(await t.page.$$eval('#screen-Review img, #screen-Review script', (found) => found.length)).toBe(0)
    expect(await t.page.evaluate(() => (window as unknown as { __xss?: string }).__xss)).toBeUndefined()
  })

  it('is usable at phone size without sideways scrolling', async () => {
    await t.page.setViewport(PHONE)
    for (const name of ['Tasks', 'Chat', 'Terminal', 'Review', 'Commands']) {
      await openTab(t.page, name)
      const width = await t.page.evaluate(() => document.documentElement.scrollWidth)
      expect({ name, width }).toEqual({ name, width: PHONE.width })
    }
    await t.page.setViewport(DESKTOP)
  })

  it('follows the system dark and light mode', async () => {
    const background = () => t.page.evaluate(() => getComputedStyle(document.body).backgroundColor)
    await t.page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }])
    const dark = await background()
    await t.page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }])
    const light = await background()
    const brightness = (rgb: string) => (rgb.match(/\d+/g) ?? []).slice(0, 3).reduce((sum, n) => sum + Number(n), 0)
    expect(brightness(dark)).toBeLessThan(150)
    expect(brightness(light)).toBeGreaterThan(600)
  })

  it('moves between screens with the keyboard and closes the session dialog with Escape', async () => {
    await openTab(t.page, 'Tasks')
    await t.page.focus('#tab-Tasks')
    await t.page.keyboard.press('ArrowRight')
    await t.page.waitForSelector('#screen-Chat:not([hidden])')
    expect(await t.page.evaluate(() => document.activeElement?.id)).toBe('tab-Chat')
    await t.page.click('header button')
    await t.page.waitForSelector('dialog[open]')
    await t.page.keyboard.press('Escape')
    await t.page.waitForFunction(() => !document.querySelector('dialog[open]'))
  })

  it('made no request off the server and raised no script or CSP error', () => {
    expect(t.watch.foreignRequests).toEqual([])
    expect(t.watch.errors).toEqual([])
  })

  it('forgets the session: the server ends it and the page asks to pair again', async () => {
    const connection = JSON.parse((await t.page.evaluate(() => localStorage.getItem('cockpit.session'))) ?? '{}') as { sessionId: string; token: string }
    await t.page.click('header button')
    await t.page.waitForSelector('dialog[open]')
    await t.page.click('dialog button.danger')
    await t.page.waitForSelector('#pair-token')
    expect(await t.page.evaluate(() => localStorage.getItem('cockpit.session'))).toBeNull()
    const after = await t.app.request(`/api/session/${connection.sessionId}`, { headers: { authorization: `Bearer ${connection.token}` } })
    expect(after.status).toBe(401)
  })

  it('pairs with the form: pairing token and repository path', async () => {
    await t.page.type('#pair-token', 'test-pairing-token-0123456789')
    await t.page.type('#pair-repo', t.app.repo)
    await t.page.keyboard.press('Enter')
    await t.page.waitForSelector('#screen-Tasks:not([hidden])')
    await waitForText(t.page, '.conn', 'live')
    expect(await t.page.evaluate(() => location.href)).toBe(`${t.baseUrl}/`)
  })

  it('says so when the pairing link is cut short, and keeps no session', async () => {
    const { page: fresh, close } = await newPage(t.browser, t.baseUrl, PHONE)
    try {
      const link = pairingLink(t.baseUrl, await pairingAnswer(t.app))
      await fresh.goto(link.slice(0, link.length - 20))
      await waitForText(fresh, '.pair .error', 'pairing link is incomplete')
      expect(fresh.url()).toBe(`${t.baseUrl}/`)
      expect(await fresh.evaluate(() => localStorage.getItem('cockpit.session'))).toBeNull()
    } finally {
      await close()
    }
  })

  it('says why when the pairing token is wrong', async () => {
    const { page: fresh, close } = await newPage(t.browser, t.baseUrl, PHONE)
    try {
      await fresh.goto(t.baseUrl)
      await fresh.type('#pair-token', 'not-the-token')
      await fresh.type('#pair-repo', t.app.repo)
      await fresh.keyboard.press('Enter')
      await fresh.waitForFunction(() => (document.querySelector('.pair .error')?.textContent ?? '').length > 0)
      expect(await fresh.evaluate(() => localStorage.getItem('cockpit.session'))).toBeNull()
    } finally {
      await close()
    }
  })
})
