import { afterAll, describe, expect, it } from 'bun:test'
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isEvent, OutputEvent } from '../../src/events'
import type { FilePatch } from '../../src/git'
import { TEST_PAIRING_TOKEN } from '../fixtures/app'
import { eventually, fakeAgentBin, json, makeTaskApp } from './helpers'

describe('choosing an agent', () => {
  it('lists the agents with whether each is installed', async () => {
    await using t = await makeTaskApp({ agents: { searchPath: () => '/nonexistent' } })
    const { status, body } = await json<{ name: string; available: boolean; description: string }[]>(await t.request('/api/agents'))
    expect(status).toBe(200)
    expect(body.map((a) => a.name)).toEqual(['mock', 'claude', 'codex', 'aider', 'gemini', 'opencode', 'cline', 'custom'])
    expect(body.find((a) => a.name === 'mock')!.available).toBe(true)
    expect(body.filter((a) => a.available).map((a) => a.name)).toEqual(['mock'])
    for (const agent of body) expect(agent.description.length).toBeGreaterThan(10)
  })

  it('answers 400 naming the available agents for an unknown agent and for one that is not installed', async () => {
    await using t = await makeTaskApp({ agents: { searchPath: () => '/nonexistent' } })
    const unknown = await json<{ error: string; message: string }>(await t.request('/api/tasks', { json: { instruction: 'x', agent: 'skynet' } }))
    expect(unknown.status).toBe(400)
    expect(unknown.body.error).toBe('unknown_agent')
    expect(unknown.body.message).toContain('available: mock')
    const missing = await json<{ error: string; message: string }>(await t.request('/api/tasks', { json: { instruction: 'x', agent: 'codex' } }))
    expect(missing.status).toBe(400)
    expect(missing.body.error).toBe('agent_unavailable')
    expect(missing.body.message).toContain('"codex"')
    expect(missing.body.message).toContain('available: mock')
    expect((await json<unknown[]>(await t.request('/api/tasks'))).body).toEqual([])
  })
})

describe('the claude adapter with a fake claude on PATH', () => {
  // The server reads its environment once, at start-up (Config.environment): the fake claude is
  // on the PATH the server starts with, and the secrets are in that environment too.
  const binRoot = realpathSync(mkdtempSync(join(tmpdir(), 'cockpit-fake-bin-')))
  const bin = fakeAgentBin(binRoot, 'claude')
  const path = `${bin}:${process.env.PATH}`
  afterAll(() => rmSync(binRoot, { recursive: true, force: true }))

  it('runs claude -p in the workspace without the server secrets and turns its edit into a patch', async () => {
    // Print mode by name: where the real claude-agent-acp is on the PATH too (CI), auto would pick ACP.
    await using t = await makeTaskApp({ env: { PATH: path, AGENT_CLAUDE_MODE: 'print', JWT_SECRET: 'server-secret-that-must-not-leak-0123456789', ANTHROPIC_API_KEY: 'sk-fake-for-the-fake-claude' } })

    const agents = await json<{ name: string; available: boolean }[]>(await t.request('/api/agents'))
    expect(agents.body.find((a) => a.name === 'claude')!.available).toBe(true)
    const { taskId } = await t.start({ instruction: 'Add a note', agent: 'claude' })
    const task = await t.waitFor(taskId, ['completed', 'failed'])
    expect(task).toMatchObject({ status: 'completed', agent: 'claude', exitCode: 0, patchCount: 1 })

    const record = readFileSync(join(bin, 'claude-invocation.txt'), 'utf8').split('\n')
    expect(record).toContain(`cwd=${realpathSync(t.workspaceOf(taskId))}`)
    expect(record.filter((line) => line.startsWith('arg='))).toEqual(['arg=-p', 'arg=--restricted', 'arg=--permission-mode', 'arg=acceptEdits', 'arg=--permission-prompts', 'arg=none', 'arg=Add a note'])
    const env = record.filter((line) => line.startsWith('env='))
    expect(env.some((line) => line.startsWith('env=PATH='))).toBe(true)
    expect(env.some((line) => line.startsWith('env=JWT_SECRET='))).toBe(false)
    expect(env.some((line) => line.startsWith('env=PAIRING_TOKEN='))).toBe(false)
    expect(env.some((line) => line.includes('must-not-leak') || line.includes(TEST_PAIRING_TOKEN))).toBe(false)

    const { body } = await json<{ patches: FilePatch[] }>(await t.request(`/api/tasks/${taskId}/patches`))
    expect(body.patches).toHaveLength(1)
    expect(body.patches[0]).toMatchObject({ file: 'FAKE_CLAUDE.md', type: 'added' })
    expect(body.patches[0]!.hunks[0]!.lines).toEqual(['+Edited by the fake claude.'])
  })

  it('runs an AGENT_CLAUDE_CMD override with the instruction in place of {instruction}', async () => {
    await using t = await makeTaskApp({ env: { PATH: path, AGENT_CLAUDE_CMD: 'claude --model "big one" --message={instruction} --verbose' } })
    const { taskId } = await t.start({ instruction: 'Fix it', agent: 'claude' })
    await t.waitFor(taskId, ['completed'])
    const args = readFileSync(join(bin, 'claude-invocation.txt'), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('arg='))
    expect(args).toEqual(['arg=--model', 'arg=big one', 'arg=--message=Fix it', 'arg=--verbose'])
  })
})

describe('user messages', () => {
  it("types a user message into the running print-mode mock agent's input, which acknowledges it", async () => {
    await using t = await makeTaskApp({ env: { AGENT_MOCK_MODE: 'print' } })
    const { taskId } = await t.start({ instruction: 'listen', context: { mock: { delayMs: 2000 } } })
    await t.waitFor(taskId, ['running'])
    expect(await t.tasks.sendUserMessage(t.session, 'also update the docs')).toEqual({ taskId, started: false, queued: false })
    const output = () =>
      t.events
        .filter((e) => isEvent(e, OutputEvent) && e.taskId === taskId)
        .map((e) => String(e.data))
        .join('')
    // The terminal echoes what is typed; the acknowledgement is the mock's own line.
    const acknowledged = /follow-up acknowledged:\s*also update the docs/
    expect(Bun.stripANSI(await eventually(output, (text) => acknowledged.test(Bun.stripANSI(text))))).toMatch(acknowledged)
    expect(t.tasks.terminalFor(t.sessionId, taskId)!.scrollback()).toContain('follow-up acknowledged:')
    expect(t.tasks.terminalFor('another-session', taskId)).toBeUndefined()
  })

  it('starts a task with the default agent when none is running', async () => {
    await using t = await makeTaskApp()
    const { taskId, started } = await t.tasks.sendUserMessage(t.session, 'Describe the repo')
    expect(started).toBe(true)
    const task = await t.waitFor(taskId, ['completed'])
    expect(task).toMatchObject({ agent: 'mock', instruction: 'Describe the repo' })
  })

  it('surfaces a question a print-mode agent asks as phase awaiting_input, and the answer lets it go on', async () => {
    await using t = await makeTaskApp({ env: { AGENT_MOCK_MODE: 'print' } })
    const { taskId } = await t.start({ instruction: 'ask first', context: { mock: { prompt: 'Write the files?' } } })
    const asking = await eventually(
      () => t.events.find((e) => e.type === 'status' && e.taskId === taskId && e.phase === 'awaiting_input'),
      (event) => event !== undefined,
    )
    expect(asking).toMatchObject({ status: 'running', phase: 'awaiting_input' })
    expect((await json(await t.request(`/api/tasks/${taskId}`))).body.phase).toBe('awaiting_input')
    await t.tasks.sendUserMessage(t.session, 'y')
    expect((await t.waitFor(taskId, ['completed', 'failed'])).status).toBe('completed')
  })

  it('refuses an empty message with 400', async () => {
    await using t = await makeTaskApp()
    await expect(t.tasks.sendUserMessage(t.session, '  ')).rejects.toMatchObject({ status: 400, kind: 'invalid_message' })
  })
})
