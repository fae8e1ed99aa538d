/**
 * A task's conversation and its agent's terminal in a real Chromium: the instruction shown once,
 * the transcript read over HTTP when a chat opens (and live events added to it without
 * duplicates), and the Terminal's picker for a print-mode agent's own terminal (`?taskId=`).
 */
import { afterAll, describe, expect, it as bunIt } from 'bun:test'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_OUTPUT_STREAM_LIMITS, DEFAULT_RING_LIMITS, OutputEvent } from '../../src/events'
import { makeTestApp } from '../fixtures/app'
import { BROWSER_TEST_MS, browserSuite, clickWhenReady, openPairedPage, openTab, PHONE, screenshot, textsOf, waitForTerminalText, waitForText } from './browser'

/** A browser test waits on a real shell and a real browser: more than the suite's default 30 s on a busy machine. */
const it = (name: string, fn: () => Promise<void> | void) => bunIt(name, fn, BROWSER_TEST_MS)

// A print-mode agent (AGENT_CUSTOM_CMD) that asks before it acts, as aider and the print-mode CLIs do.
const agentDir = mkdtempSync(join(tmpdir(), 'cockpit-asking-agent-'))
afterAll(() => rmSync(agentDir, { recursive: true, force: true }))
const t = browserSuite(
  () => {
    const agent = join(agentDir, 'asking-agent')
    writeFileSync(agent, '#!/bin/sh\nprintf "Apply the change to %s? [y/n] " "$1"\nread answer\necho "agent answered-$answer"\n')
    chmodSync(agent, 0o755)
    return makeTestApp({ env: { AGENT_CUSTOM_CMD: agent } })
  },
  { viewport: PHONE },
)

/** The text of the chat's user messages (each `You · time` label then the message). */
const userMessages = () => textsOf(t.page, '.chat-log .msg.user .text')

async function startTask(instruction: string, agent: string, context?: unknown): Promise<string> {
  const response = await t.app.request('/api/tasks', { method: 'POST', json: { instruction, agent, ...(context ? { context } : {}) } })
  expect(response.status).toBe(202)
  return ((await response.json()) as { taskId: string }).taskId
}

async function openChatOf(taskId: string): Promise<void> {
  await openTab(t.page, 'Tasks')
  await clickWhenReady(t.page, `.task[data-task-id="${taskId}"] button`)
  await t.page.waitForSelector('#screen-Chat:not([hidden])')
}

describe('the Chat', () => {
  it("shows the task's instruction once, though the server echoes it as a message of the conversation", async () => {
    const taskId = await startTask('say hello once', 'mock')
    await openChatOf(taskId)
    await waitForText(t.page, '.chat-log .msg.agent', 'Done,', 30_000)
    await t.page.waitForSelector(`.task[data-task-id="${taskId}"][data-status="completed"]`, { timeout: 30_000 })
    expect(await userMessages()).toEqual(['say hello once'])
  })

  it('reads the conversation over HTTP when a chat opens, when its events have left the server, and adds live ones without duplicates', async () => {
    const taskId = await startTask('remember this conversation', 'mock')
    await openChatOf(taskId)
    await waitForText(t.page, '.chat-log .msg.agent', 'Done,', 30_000)
    await t.page.type('#chat-input', 'first follow-up')
    await t.page.keyboard.press('Enter')
    await waitForText(t.page, '.chat-log .msg.agent', 'turn 2:', 30_000)

    // A long command output pushes the conversation's events out of the session's ring. A real
    // command would take minutes (output is streamed at 256 KiB/s), so its events are published
    // on the session's real bus here: full-size output chunks, past the ring's 8 MiB.
    const chunk = 'x'.repeat(DEFAULT_OUTPUT_STREAM_LIMITS.maxEventChars - 1) + '\n'
    for (let i = 0; i * chunk.length * 2 < DEFAULT_RING_LIMITS.maxBytes * 1.1; i++) t.app.services.events.publish(t.app.sessionId, OutputEvent, { cmdId: 'flood', data: chunk })
    const kept = t.app.services.events.forSession(t.app.sessionId).replay(0).events
    expect(kept.some((event) => event.type === 'message' && event.taskId === taskId)).toBe(false)

    // A second browser (own storage) opens that chat: only the transcript can show it.
    const second = await openPairedPage(t.browser, t.baseUrl, t.app, PHONE)
    try {
      const other = second.page
      await other.evaluate((id) => localStorage.setItem('cockpit.view', JSON.stringify({ tab: 'Chat', taskId: id })), taskId)
      await other.reload()
      await waitForText(other, '.conn', 'live')
      await waitForText(other, '.chat-log .msg.agent', 'turn 2:')
      expect(await textsOf(other, '.chat-log .msg.user .text')).toEqual(['remember this conversation', 'first follow-up'])
      expect(await textsOf(other, '.chat-log .msg.agent .text')).toEqual([expect.stringContaining('Done,'), expect.stringContaining('turn 2: "first follow-up"')])

      // Live events after the transcript: each message once.
      await other.type('#chat-input', 'second follow-up')
      await other.keyboard.press('Enter')
      await waitForText(other, '.chat-log .msg.agent', 'turn 3:', 30_000)
      expect(await textsOf(other, '.chat-log .msg.user .text')).toEqual(['remember this conversation', 'first follow-up', 'second follow-up'])
      expect(await textsOf(other, '.chat-log .msg.agent .text')).toHaveLength(3)
      await screenshot(other, 'phone-chat-transcript')
      expect(second.watch.errors).toEqual([])
    } finally {
      await second.close()
    }
  })

  it("shows a print-mode task's instruction once (its transcript is the instruction alone)", async () => {
    const taskId = await startTask('print mode says nothing back', 'custom')
    await openChatOf(taskId)
    await waitForText(t.page, '.chat-log .msg.user', 'print mode says nothing back')
    expect(await userMessages()).toEqual(['print mode says nothing back'])
    await t.app.request(`/api/tasks/${taskId}/cancel`, { method: 'POST' })
  })
})

describe('the Terminal', () => {
  it("switches to a print-mode agent's own terminal, shows its question and takes the answer typed", async () => {
    const taskId = await startTask('answer me', 'custom')
    await openTab(t.page, 'Terminal')
    await t.page.waitForSelector(`#terminal-source option[value="${taskId}"]`)
    expect(await textsOf(t.page, '#terminal-source option')).toContain('Session shell')
    await t.page.select('#terminal-source', taskId)
    await waitForTerminalText(t.page, 'Apply the change to answer me? [y/n]')
    await t.page.click('.term')
    await t.page.keyboard.type('y\n')
    await waitForTerminalText(t.page, 'agent answered-y')
    await waitForTerminalText(t.page, '[the agent exited with code 0]')
    await waitForText(t.page, '#screen-Terminal [role=status]', 'exited')
    await screenshot(t.page, 'phone-terminal-agent')
  })

  it("lists only tasks whose agent has a terminal, and goes back to the session's shell", async () => {
    const acpTask = await startTask('no terminal for acp', 'mock')
    await t.page.waitForSelector(`.task[data-task-id="${acpTask}"]`)
    await openTab(t.page, 'Terminal')
    const offered = await t.page.$$eval('#terminal-source option', (options) => options.map((option) => (option as HTMLOptionElement).value))
    expect(offered).not.toContain(acpTask)
    expect(offered.length).toBeGreaterThan(1)
    expect(offered[0]).toBe('')
    await t.page.select('#terminal-source', '')
    await t.page.waitForSelector('#screen-Terminal [role=status][data-connects]')
    await t.page.click('.term')
    await t.page.keyboard.type('echo shell-$((6*7))-back\n')
    await waitForTerminalText(t.page, 'shell-42-back')
  })

  it('raised no script or CSP error', () => {
    expect(t.watch.errors).toEqual([])
    expect(t.watch.foreignRequests).toEqual([])
  })
})
