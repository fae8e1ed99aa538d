/**
 * Approvals in the Chat screen, in a real Chromium: the mock agent (ACP, `context.mock.ask`) asks
 * to run a command, the page shows the question with Allow and Reject, and the answer decides
 * whether the agent makes its edits. Needs the conversations/approvals work (ACP mock, events
 * `confirmation` / `confirmation_resolved`, the `confirmation` frame on /ws/events).
 */
import { describe, expect, it as bunIt } from 'bun:test'
import { makeTestApp } from '../fixtures/app'
import { BROWSER_TEST_MS, browserSuite, clickWhenReady as clickIn, openTab, PHONE, screenshot, waitForText } from './browser'

/** A browser test waits on a real shell and a real browser: more than the suite's default 30 s on a busy machine. */
const it = (name: string, fn: () => Promise<void> | void) => bunIt(name, fn, BROWSER_TEST_MS)

const t = browserSuite(() => makeTestApp(), { viewport: PHONE })
const clickWhenReady = (selector: string) => clickIn(t.page, selector)

async function startAskingTask(instruction: string): Promise<string> {
  const response = await t.app.request('/api/tasks', {
    method: 'POST',
    json: {
      instruction,
      agent: 'mock',
      context: { mock: { ask: { title: 'Run the tests', kind: 'execute', command: 'npm test' }, edits: [{ file: 'approved.txt', content: 'yes\n' }] } },
    },
  })
  expect(response.status).toBe(202)
  const { taskId } = (await response.json()) as { taskId: string }
  return taskId
}

async function patchedFiles(taskId: string): Promise<string[]> {
  const response = await t.app.request(`/api/tasks/${taskId}/patches`)
  return ((await response.json()) as { patches: { file: string }[] }).patches.map((patch) => patch.file)
}

describe('approvals in the Chat screen', () => {
  it('shows the agent asking to run a command with Allow and Reject, and Allow lets it make its edits', async () => {
    const taskId = await startAskingTask('run the tests then write approved.txt')
    await t.page.waitForSelector(`.task[data-task-id="${taskId}"]`)
    await clickWhenReady(`.task[data-task-id="${taskId}"] button`)
    await t.page.waitForSelector('#screen-Chat:not([hidden])')
    await waitForText(t.page, '.confirm .text', 'npm test', 30_000)
    const buttons = await t.page.$$eval('.confirm button', (found) => found.map((button) => button.textContent))
    expect(buttons).toEqual(['Allow', 'Reject'])
    await screenshot(t.page, 'phone-chat-approval')
    await clickWhenReady('.confirm button:not(.danger)')
    await waitForText(t.page, '.confirm .badge', 'allowed by client')
    await t.page.waitForSelector(`.task[data-task-id="${taskId}"][data-status="completed"]`, { timeout: 30_000 })
    expect(await patchedFiles(taskId)).toEqual(['approved.txt'])
  })

  it('sends a follow-up with Enter and shows the next turn of the conversation', async () => {
    await t.page.type('#chat-input', 'and now the docs')
    await t.page.keyboard.press('Enter')
    await waitForText(t.page, '.chat-log .msg.user', 'and now the docs')
    await waitForText(t.page, '.chat-log .msg.agent', 'turn 2:', 30_000)
  })

  it('Reject stops the agent from making its edits', async () => {
    const taskId = await startAskingTask('run the tests but get rejected')
    await openTab(t.page, 'Tasks')
    await clickWhenReady(`.task[data-task-id="${taskId}"] button`)
    await t.page.waitForSelector('#screen-Chat:not([hidden])')
    await t.page.waitForSelector('.confirm button.danger', { timeout: 30_000 })
    await clickWhenReady('.confirm button.danger')
    await waitForText(t.page, '.confirm .badge', 'rejected by client')
    await t.page.waitForSelector(`.task[data-task-id="${taskId}"][data-status="completed"]`, { timeout: 30_000 })
    expect(await patchedFiles(taskId)).toEqual([])
  })

  it('raised no script or CSP error', () => {
    expect(t.watch.errors).toEqual([])
    expect(t.watch.foreignRequests).toEqual([])
  })
})
